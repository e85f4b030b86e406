/* Attacks on what a host can make the agent hold (docs/security.md, "Bounded memory and
 * connections"): parked stdin, unread replies, large frames, connections.
 *
 *   attacker_bounds --create-sandbox ADDR SANDBOX_ID
 *   attacker_bounds ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 *        memory: an agent with a sandbox, started with a long --frame-timeout so that
 *        stalled connections stay until the test closes them
 *   attacker_bounds --conns ADDR AGENT_PID [CASE...]
 *        connections: an agent started with --frame-timeout 2, no sandbox
 *
 * Memory is the agent's VmRSS (and VmHWM, its peak) from /proc/<pid>/status; each bound is
 * a growth over the value at the start of the case (or of the run), far below what the
 * attack took before the bounds (150 parked 4 MiB writes: 615 MB). Waits are for
 * conditions (a reply, an EOF, a counter of GetMetrics), each with a generous limit. */
#include "itest.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agent/ttrpc/address.h"
#include "ttrpc.pb-c.h"

#define MiB		  (1u << 20)
#define BIG_WRITE	  (4 * MiB - 512) /* about the most data a 4 MiB frame carries */
#define PER_PROCESS_BOUND "bound of 4194304 per process"    /* agent/sandbox/stdio.c */
#define AGENT_STDIN_BOUND "agent's bound of 16777216"	    /* agent/sandbox/stdio.c */
#define CONN_OUT_BOUND	  "bound of 5242880 per connection" /* agent/ttrpc/server.c */
#define IN_LARGE_BOUND	  "(bound 16777216)"		    /* agent/ttrpc/server.c */
#define OUT_DATA_MAX	  (5 * MiB)
#define MAX_CONNS	  128
#define RSS_GROWTH_MAX	  (32 * MiB) /* per case, over its start */
#define HWM_GROWTH_MAX	  (64 * MiB) /* the run's peak, over the RSS at its start */
#define WAIT_MS		  60000
#define HEALTH		  "grpc.Health"

static size_t g_rss_start;

/* ---- the agent's memory ----------------------------------------------------------------- */

/* VmRSS or VmHWM of the agent in bytes (0 if unreadable). */
static size_t agent_mem(struct it *t, const char *key)
{
	char path[64];
	size_t klen = strlen(key), kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->agent);
	char *text = it_read_file(path, NULL);
	for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == ':')
			kb = strtoull(l + klen + 1, NULL, 10);
	free(text);
	return kb * 1024;
}

/* The agent's RSS has grown by at most RSS_GROWTH_MAX since `before`. */
static int rss_bounded(struct it *t, size_t before, const char *when)
{
	size_t now = agent_mem(t, "VmRSS");
	if (!now)
		return it_why(t, "%s: cannot read the agent's VmRSS", when);
	if (now > before + RSS_GROWTH_MAX)
		return it_why(t, "%s: the agent's RSS grew from %zu to %zu MiB (bound: +%u MiB)",
			      when, before >> 20, now >> 20, RSS_GROWTH_MAX >> 20);
	printf("# %s: agent RSS %zu -> %zu KiB (bound +%u MiB)\n", when, before >> 10,
	       now >> 10, RSS_GROWTH_MAX >> 20);
	return 0;
}

/* ---- raw sockets: connections that misbehave --------------------------------------------- */

static int raw_connect(struct it *t)
{
	struct pd_addr a;
	struct pd_error err = {0};
	struct sockaddr_un sun;
	if (pd_addr_parse(t->addr, &a, &err) < 0)
		return it_why(t, "%s: %s", t->addr, err.msg);
	socklen_t len = pd_addr_unix_sockaddr(&a, &sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return it_why(t, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		it_why(t, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all of buf on a blocking socket, giving up after WAIT_MS without progress. */
static int send_bytes(struct it *t, int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		if (poll(&pf, 1, WAIT_MS) == 0)
			return it_why(t, "send blocked for %d s", WAIT_MS / 1000);
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return it_why(t, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The header of a frame of `len` bytes, and `have` bytes of its body (zeros). */
static int send_partial_frame(struct it *t, int fd, uint32_t len, size_t have)
{
	uint8_t h[PD_TTRPC_HEADER_LEN];
	struct pd_frame_header fh = {len, 1, PD_TTRPC_REQUEST, 0};
	pd_frame_header_encode(h, &fh);
	uint8_t *body = calloc(1, have ? have : 1);
	int rc = body ? 0 : it_why(t, "out of memory");
	if (rc == 0)
		rc = send_bytes(t, fd, h, sizeof(h));
	if (rc == 0 && have)
		rc = send_bytes(t, fd, body, have);
	free(body);
	return rc;
}

/* A whole Health.Check frame for `stream` in out (64 bytes); returns its length. */
static size_t check_frame(uint8_t out[64], uint32_t stream)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = HEALTH;
	req.method = "Check";
	size_t n = ttrpc__request__pack(&req, out + PD_TTRPC_HEADER_LEN);
	struct pd_frame_header h = {(uint32_t)n, stream, PD_TTRPC_REQUEST, 0};
	pd_frame_header_encode(out, &h);
	return PD_TTRPC_HEADER_LEN + n;
}

/* Has the agent closed fd (EOF, or a reset)? Replies are read and dropped; false when
 * nothing more comes within ms. */
static bool closed_within(int fd, int ms)
{
	int64_t end = it_now_ms() + ms;
	for (;;) {
		int left = (int)(end - it_now_ms());
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, left > 0 ? left : 0) <= 0)
			return false;
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- calls -------------------------------------------------------------------------------- */

static int send_write(struct it *t, struct pd_client *c, const char *cid, const char *eid,
		      const void *data, size_t len, uint32_t *stream)
{
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	struct pd_error e = {0};
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	if (pd_client_send(c, IT_SERVICE, "WriteStdin", &req.base, 0, stream, &e) < 0)
		return it_why(t, "send WriteStdin: %s", e.msg);
	return 0;
}

/* The next reply on c within ms; -1 (t->why) if none. */
static int recv_reply(struct it *t, struct pd_client *c, int ms, struct pd_client_reply *r)
{
	struct pd_error e = {0};
	if (pd_client_recv(c, ms, r, &e) < 0)
		return it_why(t, "no reply within %d ms: %s", ms, e.msg);
	return 0;
}

/* Health.Check on a fresh connection: a new client is served. */
static int new_client_served(struct it *t)
{
	struct pd_client c = {.fd = -1};
	int rc = it_connect(t, &c) < 0 ? -1 : it_sync(t, &c);
	pd_client_close(&c);
	return rc;
}

/* A counter or gauge of GetMetrics (-1 if the call fails or the series is absent). */
static double metric(struct it *t, const char *series)
{
	struct pd_client c = {.fd = -1};
	Grpc__Metrics *m = NULL;
	double v = -1;
	if (it_connect(t, &c) == 0 &&
	    it_call_svc(t, &c, IT_SERVICE, "GetMetrics", NULL, &grpc__metrics__descriptor, &m,
			IT_CALL_MS) == 0) {
		size_t n = strlen(series);
		for (const char *l = m->metrics; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, series, n) && l[n] == ' ')
				v = strtod(l + n + 1, NULL);
	}
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	pd_client_close(&c);
	return v;
}

/* The agent has exactly `want` connections (the one GetMetrics uses counted). */
static int wait_conns(struct it *t, int want)
{
	double v = -1;
	for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end; it_sleep_ms(50))
		if ((v = metric(t, "kata_agent_connections")) == want)
			return 0;
	return it_why(t, "the agent still has %.0f connections, want %d", v, want);
}

/* Byte i of the pattern the stdin cases write (spew's: i * 7 mod 251). */
static void pattern(uint8_t *p, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(((off + i) * 7) % 251);
}

static bool is_pattern(const uint8_t *p, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(((off + i) * 7) % 251))
			return false;
	return true;
}

/* ---- parked stdin ------------------------------------------------------------------------ */

/* The attack: 150 WriteStdin calls of 4 MiB to a process that never reads stdin.
 * The first is kept (what its pipe did not take), every other one is RESOURCE_EXHAUSTED
 * naming the per-process bound; the agent's RSS stays bounded and it keeps serving. The
 * kept write is answered (an error) once its process is gone. */
static int case_stdin_per_process(struct it *t)
{
	const char *cid = "bounds-stdin";
	struct it_spec s;
	struct pd_client w = {.fd = -1};
	struct pd_client_reply r = {0};
	uint8_t *data = malloc(BIG_WRITE);
	uint32_t first = 0, id;
	int rc = -1, refused = 0;
	EXPECT(data, "out of memory");
	pattern(data, 0, BIG_WRITE);
	TRY(it_up_sleeping(t, cid, &s));
	TRY(it_connect(t, &w));
	TRY(it_sync(t, &t->c));
	size_t rss0 = agent_mem(t, "VmRSS");
	for (int i = 0; i < 150; i++) {
		TRY(send_write(t, &w, cid, cid, data, BIG_WRITE, &id));
		if (i == 0)
			first = id;
	}
	while (refused < 149) {
		TRY(recv_reply(t, &w, WAIT_MS, &r));
		EXPECT(r.stream_id != first, "the first write was answered (%s: %s) though its "
		       "process never reads", pd_code_name(r.code), r.message);
		EXPECT(r.code == PD_RESOURCE_EXHAUSTED && strstr(r.message, PER_PROCESS_BOUND),
		       "write %d: %s: %s, want RESOURCE_EXHAUSTED naming the %s", refused + 2,
		       pd_code_name(r.code), r.message, PER_PROCESS_BOUND);
		pd_client_reply_free(&r);
		refused++;
	}
	TRY(rss_bounded(t, rss0, "150 writes of 4 MiB"));
	TRY(new_client_served(t));
	TRY(it_signal(t, cid, "", SIGKILL));
	TRY(recv_reply(t, &w, WAIT_MS, &r));
	EXPECT(r.stream_id == first && r.code == PD_FAILED_PRECONDITION,
	       "after the kill: stream %u %s: %s, want the kept write (%u) FAILED_PRECONDITION",
	       r.stream_id, pd_code_name(r.code), r.message, first);
	rc = 0;
out:
	pd_client_reply_free(&r);
	free(data);
	pd_client_close(&w);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Kata's semantics stay: a write the pipe cannot take at once is answered, with its full
 * length, only once all of it is written (here: once its output has been read). */
static int case_stdin_answered_when_written(struct it *t)
{
	const char *cid = "bounds-cat-write";
	const size_t len = MiB;
	struct it_spec s;
	struct pd_client w = {.fd = -1};
	struct pd_client_reply r = {0};
	uint8_t *data = malloc(len), *chunk = NULL;
	size_t got = 0, n;
	uint32_t ws;
	int rc = -1;
	EXPECT(data, "out of memory");
	pattern(data, 0, len);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", NULL);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(it_connect(t, &w));
	TRY(send_write(t, &w, cid, cid, data, len, &ws));
	TRY(it_sync(t, &w)); /* dropped replies would be ours: none may come before the Check */
	while (got < len) {
		TRY(it_read1(t, cid, cid, false, &chunk, &n, IT_CALL_MS));
		EXPECT(n > 0 && got + n <= len && is_pattern(chunk, got, n),
		       "stdout at %zu: %zu bytes, not the bytes written", got, n);
		got += n;
		free(chunk);
		chunk = NULL;
	}
	TRY(recv_reply(t, &w, WAIT_MS, &r));
	Grpc__WriteStreamResponse *resp =
		r.code == 0 ? grpc__write_stream_response__unpack(NULL, r.payload_len, r.payload)
			    : NULL;
	EXPECT(r.stream_id == ws && resp && resp->len == len,
	       "the write: stream %u (want %u) %s: %s, len %u (want %zu)", r.stream_id, ws,
	       pd_code_name(r.code), r.message, resp ? resp->len : 0, len);
	grpc__write_stream_response__free_unpacked(resp, NULL);
	rc = 0;
out:
	pd_client_reply_free(&r);
	free(chunk);
	free(data);
	pd_client_close(&w);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Five processes that never read, a 4 MiB write to each: four are kept, the fifth passes
 * the agent-wide bound. After they are gone the bytes are released: a new process's
 * 4 MiB write is kept again. */
static int case_stdin_agent_wide(struct it *t)
{
	const char *cid = "bounds-stdin-all", *cid2 = "bounds-stdin-again";
	static const char *eids[] = {"bounds-stdin-all", "e1", "e2", "e3", "e4"};
	struct it_spec s, e, s2;
	struct pd_client w = {.fd = -1};
	struct pd_client_reply r = {0};
	uint8_t *data = malloc(BIG_WRITE);
	uint32_t ws[5];
	int rc = -1, rc2 = -1;
	EXPECT(data, "out of memory");
	pattern(data, 0, BIG_WRITE);
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "sleep", IT_LONG_SLEEP, NULL);
	for (int i = 1; i < 5; i++)
		TRY(it_exec(t, cid, eids[i], &e.proc));
	TRY(it_connect(t, &w));
	TRY(it_sync(t, &t->c));
	size_t rss0 = agent_mem(t, "VmRSS");
	for (int i = 0; i < 5; i++)
		TRY(send_write(t, &w, cid, eids[i], data, BIG_WRITE, &ws[i]));
	TRY(recv_reply(t, &w, WAIT_MS, &r));
	EXPECT(r.stream_id == ws[4] && r.code == PD_RESOURCE_EXHAUSTED &&
		       strstr(r.message, AGENT_STDIN_BOUND),
	       "first reply: stream %u (the fifth write is %u) %s: %s, want RESOURCE_EXHAUSTED "
	       "naming the %s", r.stream_id, ws[4], pd_code_name(r.code), r.message,
	       AGENT_STDIN_BOUND);
	pd_client_reply_free(&r);
	TRY(rss_bounded(t, rss0, "16 MiB of stdin kept"));
	TRY(it_signal(t, cid, "", SIGKILL));
	for (int i = 0; i < 4; i++) {
		TRY(recv_reply(t, &w, WAIT_MS, &r));
		EXPECT(r.code == PD_FAILED_PRECONDITION, "kept write after the kill: %s: %s",
		       pd_code_name(r.code), r.message);
		pd_client_reply_free(&r);
	}
	TRY(it_up_sleeping(t, cid2, &s2));
	TRY(send_write(t, &w, cid2, cid2, data, BIG_WRITE, &ws[0]));
	TRY(it_sync(t, &w)); /* a reply to the write before the Check would be dropped here */
	TRY(it_signal(t, cid2, "", SIGKILL));
	TRY(recv_reply(t, &w, WAIT_MS, &r));
	EXPECT(r.stream_id == ws[0] && r.code == PD_FAILED_PRECONDITION,
	       "the write kept after the others were released: %s: %s", pd_code_name(r.code),
	       r.message);
	rc2 = 0;
	rc = 0;
out:
	pd_client_reply_free(&r);
	free(data);
	pd_client_close(&w);
	if (rc2 < 0)
		rc2 = rc;
	it_cleanup(t, cid2, &rc2);
	it_cleanup(t, cid, &rc);
	return rc < 0 || rc2 < 0 ? -1 : 0;
}

/* ---- large frames -------------------------------------------------------------------------- */

/* A Health.Check whose request is about len bytes (the service name fills it). */
static int big_check(struct it *t, struct pd_client *c, size_t len)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	char *name = malloc(len + 1);
	if (!name)
		return it_why(t, "out of memory");
	memset(name, 'a', len);
	name[len] = '\0';
	req.service = name;
	int code = it_call_svc(t, c, HEALTH, "Check", &req.base, NULL, NULL, IT_CALL_MS);
	free(name);
	return code;
}

/* Four connections each send nearly all of a 4 MiB frame and stop: together they hold
 * the budget of large frames, so a fifth's large request is refused (small ones are still
 * served) and twenty more nearly whole 4 MiB frames are drained, not kept. Closing one of
 * the four gives its share back. */
static int case_large_frames(struct it *t)
{
	enum { HOLDERS = 4, DRAINED = 20 };
	const uint32_t flen = 4 * MiB - 64;
	int hold[HOLDERS], drain[DRAINED];
	struct pd_client n = {.fd = -1};
	int rc = -1, code = -1;
	for (int i = 0; i < HOLDERS; i++)
		hold[i] = -1;
	for (int i = 0; i < DRAINED; i++)
		drain[i] = -1;
	TRY(it_sync(t, &t->c));
	size_t rss0 = agent_mem(t, "VmRSS");
	for (int i = 0; i < HOLDERS; i++) {
		TRY(hold[i] = raw_connect(t));
		TRY(send_partial_frame(t, hold[i], flen, flen - 8192));
	}
	TRY(it_connect(t, &n));
	/* Until the agent has read the four headers, a large request still fits. */
	for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end; it_sleep_ms(20))
		if ((code = big_check(t, &n, MiB)) != 0)
			break;
	EXPECT(code == PD_RESOURCE_EXHAUSTED && strstr(t->msg, IN_LARGE_BOUND),
	       "a 1 MiB request while 16 MiB of large frames are held: %s: %s, want "
	       "RESOURCE_EXHAUSTED naming the %s", code < 0 ? "no answer" : pd_code_name(code),
	       code < 0 ? t->why : t->msg, IN_LARGE_BOUND);
	TRY(it_sync(t, &n));
	for (int i = 0; i < DRAINED; i++) {
		TRY(drain[i] = raw_connect(t));
		TRY(send_partial_frame(t, drain[i], flen, flen - 8192));
	}
	TRY(it_sync(t, &n));
	TRY(rss_bounded(t, rss0, "24 connections with 4 MiB frames nearly whole"));
	close(hold[0]);
	hold[0] = -1;
	for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end; it_sleep_ms(20))
		if ((code = big_check(t, &n, MiB)) == 0)
			break;
	EXPECT(code == 0, "a 1 MiB request after one holder left: %s",
	       code < 0 ? t->why : t->msg);
	rc = 0;
out:
	close_fds(hold, HOLDERS);
	close_fds(drain, DRAINED);
	pd_client_close(&n);
	return rc;
}

/* ---- a client that does not read its replies ---------------------------------------------- */

#define N_READERS 1000

/* Has any ReadStdout been refused for want of room for its reply? */
static bool reads_refused(struct it *t)
{
	return metric(t, "kata_agent_rpc_calls_total{service=\"grpc.AgentService\",method="
			 "\"ReadStdout\",code=\"RESOURCE_EXHAUSTED\"}") > 0;
}

/* Feed `cat` 64 KiB at a time, each write waiting for its answer as the shim's do, until
 * some ReadStdout was refused (then the write in flight may stay parked: cat is blocked
 * on a full stdout that nobody may read). */
static int feed_until_refused(struct it *t, struct pd_client *y, const char *cid, size_t *fed)
{
	const size_t chunk = 65536;
	uint8_t *buf = malloc(chunk);
	int64_t end = it_now_ms() + 4 * WAIT_MS;
	int rc = -1;
	if (!buf)
		return it_why(t, "out of memory");
	for (int i = 0;; i++) {
		uint32_t ws;
		pattern(buf, *fed, chunk);
		if (send_write(t, y, cid, cid, buf, chunk, &ws) < 0)
			break;
		bool answered = false;
		while (!answered) {
			struct pd_client_reply r;
			struct pd_error e = {0};
			if (pd_client_recv(y, 1000, &r, &e) == 0) {
				answered = r.stream_id == ws && r.code == 0;
				if (!answered) {
					it_why(t, "WriteStdin at %zu: %s: %s", *fed,
					       pd_code_name(r.code), r.message);
					pd_client_reply_free(&r);
					goto done;
				}
				pd_client_reply_free(&r);
				*fed += chunk;
			} else if (reads_refused(t)) {
				rc = 0;
				goto done;
			} else if (it_now_ms() > end) {
				it_why(t, "after %zu bytes fed, no ReadStdout was refused", *fed);
				goto done;
			}
		}
		if (i % 8 == 7 && reads_refused(t)) {
			rc = 0;
			break;
		}
	}
done:
	free(buf);
	return rc;
}

/* Keep sending Check frames on x without reading, until the agent stops reading x (its
 * sends block for a second) or 16 MiB went out; returns how many whole frames were sent. */
static long flood_checks(struct pd_client *x)
{
	uint8_t chunk[64 * 1024];
	long frames = 0;
	size_t sent_total = 0;
	while (sent_total < (16u << 20)) {
		size_t len = 0, flen = 0;
		while (len + 64 <= sizeof(chunk)) {
			flen = check_frame(chunk + len, x->next_stream);
			len += flen;
			x->next_stream += 2;
		}
		for (size_t off = 0; off < len;) {
			ssize_t n = send(x->fd, chunk + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				off += (size_t)n;
				sent_total += (size_t)n;
				continue;
			}
			struct pollfd pf = {.fd = x->fd, .events = POLLOUT};
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
			if (poll(&pf, 1, 1000) == 0) /* the agent stopped reading us */
				return frames + (long)(off / flen);
		}
		frames += (long)(len / flen);
	}
	return frames;
}

/* The brief's third attack: a client parks 1000 ReadStdout calls on `cat`, stops reading,
 * and keeps calling. Its unread replies stop at the per-connection bound — the calls past
 * it are RESOURCE_EXHAUSTED naming it, and the output they would have carried stays in the
 * pipe for the next reader — the agent stops reading it, its memory stays bounded, other
 * clients are served; when it reads at last, every call has its answer, the data in order. */
static int case_non_reader(struct it *t)
{
	const char *cid = "bounds-cat";
	struct it_spec s;
	struct pd_client x = {.fd = -1}, y = {.fd = -1};
	struct pd_client_reply r = {0};
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	uint8_t *zdata = NULL;
	size_t fed = 0, data = 0, zlen = 0;
	int inflight = 0;
	long checks = 0;
	int rc = -1, ok = 0, refused = 0, answered_checks = 0;
	struct pd_error e = {0};
	char why[600] = "";

	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", NULL);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(it_connect(t, &x));
	TRY(it_connect(t, &y));
	TRY(it_sync(t, &t->c));
	size_t rss0 = agent_mem(t, "VmRSS");
	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.len = 65536;
	for (int i = 0; i < N_READERS; i++)
		EXPECT(pd_client_send(&x, IT_SERVICE, "ReadStdout", &req.base, 0, NULL, &e) == 0,
		       "send ReadStdout: %s", e.msg);
	TRY(it_sync(t, &x)); /* cat has written nothing yet: all 1000 are parked */
	TRY(feed_until_refused(t, &y, cid, &fed));
	TRY(rss_bounded(t, rss0, "a connection at its bound of unread replies"));
	/* What the agent wrote before its queue filled is in x's socket, not in the agent. */
	EXPECT(ioctl(x.fd, FIONREAD, &inflight) == 0, "FIONREAD: %s", strerror(errno));
	checks = flood_checks(&x);
	EXPECT(checks >= 0, "sending Checks: %s", strerror(errno));
	TRY(new_client_served(t));
	TRY(it_read1(t, cid, cid, false, &zdata, &zlen, IT_CALL_MS));
	EXPECT(zlen > 0, "ReadStdout on another connection: EOF");
	TRY(rss_bounded(t, rss0, "the non-reader flooding Checks"));
	/* x reads at last: every call has its answer. */
	while (ok + refused < N_READERS || answered_checks < checks) {
		TRY(recv_reply(t, &x, WAIT_MS, &r));
		Grpc__ReadStreamResponse *rs = NULL;
		if (ok + refused == N_READERS) {
			EXPECT(r.code == 0, "Check: %s: %s", pd_code_name(r.code), r.message);
			answered_checks++;
		} else if (r.code == PD_RESOURCE_EXHAUSTED) {
			EXPECT(strstr(r.message, CONN_OUT_BOUND), "ReadStdout refused: '%s' lacks "
			       "'%s'", r.message, CONN_OUT_BOUND);
			refused++;
		} else {
			EXPECT(r.code == 0 && refused == 0, "ReadStdout %d: %s: %s (after %d "
			       "refused)", ok + refused, pd_code_name(r.code), r.message, refused);
			rs = grpc__read_stream_response__unpack(NULL, r.payload_len, r.payload);
			EXPECT(rs && rs->data.len > 0 && is_pattern(rs->data.data, data, rs->data.len),
			       "ReadStdout %d: not the bytes at %zu of what was written", ok, data);
			data += rs->data.len;
			ok++;
		}
		if (rs)
			grpc__read_stream_response__free_unpacked(rs, NULL);
		pd_client_reply_free(&r);
	}
	EXPECT(refused > 0 && data <= OUT_DATA_MAX + (size_t)inflight,
	       "%d reads answered with %zu bytes, %d refused: want some refused and at most "
	       "%u bytes queued by the agent (+ %d in the socket)", ok, data, refused,
	       OUT_DATA_MAX, inflight);
	EXPECT(is_pattern(zdata, data, zlen), "the other client's read (%zu bytes) does not "
	       "continue at %zu, where the refused reads left the output", zlen, data);
	snprintf(why, sizeof(why), "# non-reader: %d reads with %zu bytes (%d in the socket), %d "
		 "refused, %ld Checks sent while not reading, %zu bytes fed", ok, data, inflight,
		 refused, checks, fed);
	puts(why);
	rc = 0;
out:
	pd_client_reply_free(&r);
	free(zdata);
	pd_client_close(&x);
	pd_client_close(&y);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Over the whole run (and the container set-ups in it), the agent's peak RSS. */
static int case_peak(struct it *t)
{
	size_t hwm = agent_mem(t, "VmHWM");
	EXPECT(hwm && hwm <= g_rss_start + HWM_GROWTH_MAX,
	       "the agent's peak RSS is %zu MiB, from %zu at the start (bound: +%u MiB)",
	       hwm >> 20, g_rss_start >> 20, HWM_GROWTH_MAX >> 20);
	printf("# peak: agent VmHWM %zu KiB, RSS at the start %zu KiB (bound +%u MiB)\n",
	       hwm >> 10, g_rss_start >> 10, HWM_GROWTH_MAX >> 20);
	return 0;
out:
	return -1;
}

static const struct it_case memory_cases[] = {
	{"stdin_per_process_bound", case_stdin_per_process},
	{"stdin_answered_when_written", case_stdin_answered_when_written},
	{"stdin_agent_wide_bound", case_stdin_agent_wide},
	{"large_frames_budget", case_large_frames},
	{"non_reader_bounded", case_non_reader},
	{"peak_rss_bounded", case_peak},
	{NULL, NULL},
};

/* ---- connections (an agent with --frame-timeout 2) ----------------------------------------- */

/* Connections stopped mid-frame — in a header, in a small body, in a large body, in an
 * oversized frame being drained, after a whole request — are closed by the half-frame
 * timeout. A connection idle between frames is not: it has been quiet longer than the
 * timeout by the time the half frames are closed, since theirs started after it. */
static int case_half_frames(struct it *t)
{
	enum { N = 6 };
	int fd[N];
	uint8_t check[64];
	struct pd_client idle = {.fd = -1};
	int rc = -1;
	for (int i = 0; i < N; i++)
		fd[i] = -1;
	TRY(it_connect(t, &idle));
	TRY(it_sync(t, &idle));
	for (int i = 0; i < N; i++)
		TRY(fd[i] = raw_connect(t));
	TRY(send_bytes(t, fd[0], "\0", 1));
	TRY(send_bytes(t, fd[1], "\0\0\0\x10\0\0\0\x01\x01", 9));
	TRY(send_partial_frame(t, fd[2], 100, 50));
	TRY(send_partial_frame(t, fd[3], MiB, 100 * 1024));
	TRY(send_partial_frame(t, fd[4], 5 * MiB, 100 * 1024));
	size_t n = check_frame(check, 1);
	TRY(send_bytes(t, fd[5], check, n));
	TRY(send_bytes(t, fd[5], check, 3));
	for (int i = 0; i < N; i++)
		EXPECT(closed_within(fd[i], WAIT_MS), "half frame %d: still open after %d s", i,
		       WAIT_MS / 1000);
	EXPECT(!closed_within(idle.fd, 0), "the idle connection was closed too");
	TRY(it_sync(t, &idle));
	rc = 0;
out:
	close_fds(fd, N);
	pd_client_close(&idle);
	return rc;
}

/* 250 idle connections (and a client with a parked call among them): a new client is
 * served; the quietest idle connections made room for it, the newest are still open, and
 * the one with a parked call was kept. */
static int case_idle_flood(struct it *t)
{
	enum { IDLE = 250 };
	static int idle[IDLE];
	struct pd_client p = {.fd = -1};
	struct pd_error e = {0};
	int rc = -1, closed = 0;
	for (int i = 0; i < IDLE; i++)
		idle[i] = -1;
	TRY(wait_conns(t, 1));
	TRY(it_connect(t, &p));
	EXPECT(pd_client_send(&p, IT_SERVICE, "GetOOMEvent", NULL, 0, NULL, &e) == 0,
	       "send GetOOMEvent: %s", e.msg);
	TRY(it_sync(t, &p));
	for (int i = 0; i < IDLE; i++)
		TRY(idle[i] = raw_connect(t));
	TRY(new_client_served(t));
	for (int i = 0; i < IDLE; i++)
		closed += closed_within(idle[i], 0);
	EXPECT(closed >= IDLE + 2 - MAX_CONNS, "only %d of %d idle connections closed", closed,
	       IDLE);
	EXPECT(closed_within(idle[0], 0) && !closed_within(idle[IDLE - 1], 0),
	       "not the quietest closed: the first is %s, the last %s",
	       closed_within(idle[0], 0) ? "closed" : "open",
	       closed_within(idle[IDLE - 1], 0) ? "closed" : "open");
	EXPECT(!closed_within(p.fd, 0), "the connection with a parked call was closed");
	TRY(it_sync(t, &p));
	printf("# idle flood: %d of %d idle connections closed to make room\n", closed, IDLE);
	rc = 0;
out:
	close_fds(idle, IDLE);
	pd_client_close(&p);
	return rc;
}

/* Every connection has a parked call: a new one is refused (closed at once), and served
 * once a connection goes. */
static int case_all_parked(struct it *t)
{
	static struct pd_client c[MAX_CONNS];
	struct pd_error e = {0};
	int rc = -1, fd = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		c[i].fd = -1;
	TRY(wait_conns(t, 1)); /* only GetMetrics' own */
	for (int i = 0; i < MAX_CONNS; i++) {
		TRY(it_connect(t, &c[i]));
		EXPECT(pd_client_send(&c[i], IT_SERVICE, "GetOOMEvent", NULL, 0, NULL, &e) == 0,
		       "send GetOOMEvent: %s", e.msg);
		TRY(it_sync(t, &c[i]));
	}
	TRY(fd = raw_connect(t));
	EXPECT(closed_within(fd, WAIT_MS), "a connection past the limit was not closed");
	pd_client_close(&c[0]);
	int code = -1;
	for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end; it_sleep_ms(50))
		if ((code = new_client_served(t)) == 0)
			break;
	EXPECT(code == 0, "no new client served after a connection left: %s", t->why);
	for (int i = 1; i < MAX_CONNS; i++)
		TRY(it_sync(t, &c[i]));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < MAX_CONNS; i++)
		pd_client_close(&c[i]);
	return rc;
}

static const struct it_case conn_cases[] = {
	{"half_frames_closed", case_half_frames},
	{"idle_flood_new_client_served", case_idle_flood},
	{"all_parked_new_refused", case_all_parked},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return it_create_sandbox(argc, argv, false, "create_sandbox");
	if (argc > 3 && strcmp(argv[1], "--conns") == 0) {
		memset(&t, 0, sizeof(t));
		t.c.fd = -1;
		t.addr = argv[2];
		t.agent = (pid_t)atoi(argv[3]);
		t.only = argv + 4;
		t.n_only = argc - 4;
		setvbuf(stdout, NULL, _IOLBF, 0);
		it_run_cases(&t, conn_cases);
		return it_finish(&t, "attacker_bounds --conns");
	}
	if (it_init(&t, argc, argv) < 0)
		return 2;
	it_sync(&t, &t.c);
	g_rss_start = agent_mem(&t, "VmRSS");
	it_run_cases(&t, memory_cases);
	return it_finish(&t, "attacker_bounds");
}
