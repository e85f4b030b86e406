/* Who may connect to the agent's vsock ports (agent/ttrpc/peer.c): the host, CID 2, only.
 * The host never dials vsock here, so accepted connections are faked: one end of a
 * socketpair stands for the accepted fd, and the address accept4 would have returned is
 * built by hand. A refused peer must find its end closed before anything was said. Also the
 * server address lists of agent/ttrpc/transport.c (a serial port and a vsock listener). */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/log.h"
#include "agent/ttrpc/peer.h"
#include "agent/ttrpc/transport.h"

static int log_fd = -1;
static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static int setup(void **state)
{
	log_fd = memfd_create("log", MFD_CLOEXEC);
	assert_true(log_fd >= 0);
	pd_log_set_level(PD_LOG_INFO);
	pd_log_set_sink(log_fd);
	pd_peer_set_clock(fake_clock);
	fake_now += 10LL * 1000 * 1000 * 1000; /* past any quiet time of an earlier test */
	pd_peer_accept_local(false);
	return 0;
}

static int teardown(void **state)
{
	pd_peer_accept_local(false);
	pd_peer_set_clock(NULL);
	pd_log_set_sink(-1);
	close(log_fd);
	return 0;
}

/* What was logged since the last call (the capture is cleared). */
static const char *logged(void)
{
	static char buf[1 << 14];
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(ftruncate(log_fd, 0), 0);
	assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct sockaddr_vm vsock_peer(uint32_t cid, uint32_t port)
{
	struct sockaddr_vm svm;
	memset(&svm, 0, sizeof(svm));
	svm.svm_family = AF_VSOCK;
	svm.svm_cid = cid;
	svm.svm_port = port;
	return svm;
}

/* Admit "our" end of a fresh socketpair as if accept4 had said `peer`; returns whether it
 * was kept. A refused end must be closed (the other end reads EOF, nothing in it). */
static bool admit(const void *peer, socklen_t len)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	errno = 0;
	int fd = pd_peer_admit(sv[0], (const struct sockaddr *)peer, len);
	bool kept = fd >= 0;
	char c;
	if (kept) {
		assert_int_equal(fd, sv[0]);
		assert_int_equal(write(fd, "k", 1), 1); /* still open and connected */
		assert_int_equal(read(sv[1], &c, 1), 1);
		close(fd);
	} else {
		assert_int_equal(errno, ECONNREFUSED);
		assert_int_equal(fcntl(sv[0], F_GETFD), -1); /* closed... */
		assert_int_equal(read(sv[1], &c, 1), 0);     /* ...and the peer sees EOF */
	}
	close(sv[1]);
	return kept;
}

static void test_allowed(void **state)
{
	assert_true(pd_peer_vsock_allowed(VMADDR_CID_HOST, false));
	assert_true(pd_peer_vsock_allowed(VMADDR_CID_HOST, true));
	assert_false(pd_peer_vsock_allowed(VMADDR_CID_LOCAL, false));
	assert_true(pd_peer_vsock_allowed(VMADDR_CID_LOCAL, true));
	static const uint32_t never[] = {VMADDR_CID_HYPERVISOR, 3, 4, 1000, UINT32_MAX - 1,
					 VMADDR_CID_ANY};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		assert_false(pd_peer_vsock_allowed(never[i], false));
		assert_false(pd_peer_vsock_allowed(never[i], true));
	}
}

/* The product setting: the host's connection is kept; the guest's own (CID 1, what every
 * process in the guest, in a container or not, looks like through the loopback transport),
 * another VM's or a nonsense CID's are closed. */
static void test_admit_host_only(void **state)
{
	struct sockaddr_vm a = vsock_peer(VMADDR_CID_HOST, 51234);
	assert_true(admit(&a, sizeof(a)));
	assert_string_equal(logged(), "");
	static const uint32_t refused[] = {VMADDR_CID_LOCAL, VMADDR_CID_HYPERVISOR, 3, 77,
					   VMADDR_CID_ANY};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fake_now += 2LL * 1000 * 1000 * 1000; /* each refusal logged */
		a = vsock_peer(refused[i], 4000 + (uint32_t)i);
		assert_false(admit(&a, sizeof(a)));
		char want[96];
		snprintf(want, sizeof(want), "peer_cid=%u peer_port=%u not_logged=0", refused[i],
			 4000 + (unsigned)i);
		const char *log = logged();
		if (count(log, "connection refused: only the host may use this vsock port") != 1 ||
		    !strstr(log, want))
			fail_msg("cid %u: log '%s', want '%s'", refused[i], log, want);
	}
}

/* agent.unsafe_vsock_loopback_peers adds CID 1 and nothing else. */
static void test_admit_unsafe_local(void **state)
{
	pd_peer_accept_local(true);
	struct sockaddr_vm a = vsock_peer(VMADDR_CID_LOCAL, 1);
	assert_true(admit(&a, sizeof(a)));
	a = vsock_peer(VMADDR_CID_HOST, 1);
	assert_true(admit(&a, sizeof(a)));
	a = vsock_peer(3, 1);
	assert_false(admit(&a, sizeof(a)));
	pd_peer_accept_local(false);
	a = vsock_peer(VMADDR_CID_LOCAL, 1);
	assert_false(admit(&a, sizeof(a)));
}

/* Unix peers pass (host tests); a short vsock address or another family is refused. */
static void test_admit_families(void **state)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	assert_true(admit(&sun, sizeof(sa_family_t))); /* an unnamed unix peer */
	assert_true(admit(&sun, sizeof(sun)));
	struct sockaddr_vm a = vsock_peer(VMADDR_CID_HOST, 1);
	assert_false(admit(&a, sizeof(a) - 1));
	assert_false(admit(&a, 0));
	struct sockaddr_storage other;
	memset(&other, 0, sizeof(other));
	other.ss_family = AF_INET;
	assert_false(admit(&other, sizeof(other)));
	assert_non_null(strstr(logged(), "not a vsock or unix peer"));
}

/* One line per listening port per second: a container dialling in a loop cannot flood the
 * console; the next line says how many were not logged. */
static void test_refusal_log_rate(void **state)
{
	struct sockaddr_vm a = vsock_peer(VMADDR_CID_LOCAL, 9);
	logged();
	for (int i = 0; i < 5; i++) {
		assert_false(admit(&a, sizeof(a)));
		fake_now += 100 * 1000 * 1000; /* 0.1 s */
	}
	assert_int_equal(count(logged(), "connection refused"), 1);
	fake_now += 1000LL * 1000 * 1000;
	assert_false(admit(&a, sizeof(a)));
	const char *log = logged();
	assert_int_equal(count(log, "connection refused"), 1);
	assert_non_null(strstr(log, "not_logged=4"));
}

/* pd_peer_accept on a real (unix) listener: EAGAIN when nothing waits, the fd when a peer
 * does (unix peers are not checked). */
static void test_accept_unix_listener(void **state)
{
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "pd-peer-test-%d", getpid());
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun.sun_path + 1);
	assert_int_equal(bind(l, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(pd_peer_accept(l, SOCK_CLOEXEC), -1);
	assert_int_equal(errno, EAGAIN);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sun, len), 0);
	int fd = pd_peer_accept(l, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(c, "x", 1), 1);
	char ch;
	assert_int_equal(read(fd, &ch, 1), 1);
	close(fd);
	close(c);
	close(l);
}

static void test_server_addr_lists(void **state)
{
	struct pd_addr a[PD_MAX_SERVER_ADDRS];
	struct pd_error err = {0};
	assert_int_equal(pd_transport_parse_list("vsock://-1:1024", a, &err), 1);
	assert_int_equal(a[0].kind, PD_ADDR_VSOCK);
	assert_int_equal(
	    pd_transport_parse_list("serial://agent.channel.0,vsock://-1:1024", a, &err), 2);
	assert_int_equal(a[0].kind, PD_ADDR_SERIAL);
	assert_string_equal(a[0].path, "agent.channel.0");
	assert_int_equal(a[1].kind, PD_ADDR_VSOCK);
	assert_int_equal(a[1].port, 1024);
	assert_int_equal(pd_transport_parse_list("unix:///run/a.sock,serial://p", a, &err), 2);
	static const char *const bad[] = {
	    "",
	    ",",
	    "vsock://-1:1024,",
	    ",vsock://-1:1024",
	    "vsock://-1:1024,unix:///x", /* two listeners: the server has one */
	    "serial://a,serial://b",	 /* one port */
	    "serial://a,vsock://-1:1,unix:///x",
	    "serial://a,tcp://1.2.3.4:5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pd_error_clear(&err);
		if (pd_transport_parse_list(bad[i], a, &err) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}
	char longest[400];
	memset(longest, 'p', sizeof(longest));
	memcpy(longest, "serial://", 9);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(pd_transport_parse_list(longest, a, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admit_host_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admit_unsafe_local, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admit_families, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusal_log_rate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accept_unix_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_addr_lists, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
