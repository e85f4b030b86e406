/* `pidone list` / `pidone state`: a thin front over state_read.h. */
#include "statecmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/json_write.h"
#include "agent/container/state.h"
#include "agent/container/state_read.h"

#define MAX_ROWS 65536 /* containers listed; far above PD_MAX_CONTAINERS */

struct opts {
	const char *verb;
	const char *root;
	const char *format;
	bool quiet;
	bool help;
	const char *id;
};

static int usage(const char *verb, const char *why)
{
	if (why)
		fprintf(stderr, "pidone %s: %s\n", verb, why);
	fprintf(stderr, "usage: pidone list [--root DIR] [--format table|json] [--quiet]\n"
			"       pidone state [--root DIR] <container-id>\n");
	return 2;
}

/* "--name VALUE" or "--name=VALUE" (and the short form); advances *i past what it used. */
static bool option_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
			 const char **out)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (!strncmp(a, lng, n) && a[n] == '=') {
		*out = a + n + 1;
		return true;
	}
	if (strcmp(a, lng) && (!shrt || strcmp(a, shrt)))
		return false;
	*out = *i + 1 < argc ? argv[++*i] : NULL;
	return true;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	bool list = !strcmp(o->verb, "list"), positional_only = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!positional_only && !strcmp(a, "--")) {
			positional_only = true;
		} else if (!positional_only && option_value(argc, argv, &i, "--root", NULL, &v)) {
			if (!v || !*v)
				return usage(o->verb, "--root needs a directory");
			o->root = v;
		} else if (!positional_only && list &&
			   option_value(argc, argv, &i, "--format", "-f", &v)) {
			if (!v || (strcmp(v, "table") && strcmp(v, "json")))
				return usage(o->verb, "--format is table or json");
			o->format = v;
		} else if (!positional_only && list &&
			   (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
			o->quiet = true;
		} else if (!positional_only && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			o->help = true;
			return 0;
		} else if (!positional_only && a[0] == '-' && a[1]) {
			return usage(o->verb, "unknown option");
		} else if (!list && !o->id) {
			o->id = a;
		} else {
			return usage(o->verb, "unexpected argument");
		}
	}
	if (!list && !o->id && !o->help)
		return usage(o->verb, "which container?");
	return 0;
}

/* --- is the init process still there? ------------------------------------------------------ */

/* Field 3 (state) and field 22 (starttime) of /proc/<pid>/stat. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted from the last ')'. */
static bool proc_stat(long long pid, char *state, unsigned long long *start)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return false;
	*state = p[2];
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	return sscanf(p, "%llu", start) == 1;
}

/* What the container is now: the file's word, unless its init is gone. */
static const char *live_status(const struct pd_state_view *v)
{
	char state;
	unsigned long long start;
	if (v->init_pid <= 0 || !proc_stat(v->init_pid, &state, &start) || state == 'Z' ||
	    state == 'X' || (v->init_start && start != v->init_start))
		return "stopped";
	return v->status[0] ? v->status : "running";
}

/* --- walking the root ---------------------------------------------------------------------- */

typedef int (*state_fn)(const char *path, const char *ctr_name, void *ctx);

static bool skip_name(const char *n)
{
	return n[0] == '.'; /* ".", "..", and our temp files */
}

static int walk_sandbox(const char *dir, state_fn fn, void *ctx)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* not a directory, or gone meanwhile */
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		if (skip_name(e->d_name))
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s/" PD_STATE_FILE, dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) < 0)
			continue;
		rc = fn(path, e->d_name, ctx);
	}
	closedir(d);
	return rc;
}

/* Calls fn for every <root>/<sandbox>/<container>/state.json until it returns non-zero. */
static int walk_root(const char *root, state_fn fn, void *ctx)
{
	DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* no container was ever created */
		fprintf(stderr, "pidone: %s: %s\n", root, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		char dir[PATH_MAX];
		if (skip_name(e->d_name))
			continue;
		int n = snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		if (n >= 0 && (size_t)n < sizeof(dir))
			rc = walk_sandbox(dir, fn, ctx);
	}
	closedir(d);
	return rc < 0 ? -1 : 0;
}

/* --- list ---------------------------------------------------------------------------------- */

struct row {
	struct pd_state_view v;
	const char *status;
};

struct rows {
	struct row *r;
	size_t n, cap;
};

static int collect(const char *path, const char *ctr_name, void *ctx)
{
	struct rows *rows = ctx;
	struct pd_error err;
	if (rows->n == MAX_ROWS) {
		fprintf(stderr, "pidone list: more than %d containers, the rest not shown\n",
			MAX_ROWS);
		return 1;
	}
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		struct row *r = realloc(rows->r, cap * sizeof(*r));
		if (!r) {
			fprintf(stderr, "pidone list: out of memory\n");
			return -1;
		}
		rows->r = r;
		rows->cap = cap;
	}
	struct row *row = &rows->r[rows->n];
	if (pd_state_view_load(path, &row->v, NULL, NULL, &err) < 0) {
		fprintf(stderr, "pidone list: %s\n", err.msg); /* like runc: skip it, go on */
		return 0;
	}
	row->status = live_status(&row->v);
	rows->n++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->v.id, ((const struct row *)b)->v.id);
}

/* runc shows pid 0 for a stopped container: the number in the file may be someone else's. */
static long long shown_pid(const struct row *r)
{
	return strcmp(r->status, "stopped") ? (long long)r->v.init_pid : 0;
}

/* A cell of the table: control bytes would garble the terminal, so they print as '?'. */
static void print_cell(const char *s, int width)
{
	int n = 0;
	for (; *s; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	while (n++ < width)
		putchar(' ');
}

#define PAD 3

static void print_table(const struct rows *rows)
{
	int w_id = 2, w_pid = 3, w_status = 6, w_created = 7;
	char pid[24];
	for (size_t i = 0; i < rows->n; i++) {
		const struct row *r = &rows->r[i];
		int n_pid = snprintf(pid, sizeof(pid), "%lld", shown_pid(r));
		w_id = (int)strlen(r->v.id) > w_id ? (int)strlen(r->v.id) : w_id;
		w_pid = n_pid > w_pid ? n_pid : w_pid;
		w_status = (int)strlen(r->status) > w_status ? (int)strlen(r->status) : w_status;
		w_created =
		    (int)strlen(r->v.created) > w_created ? (int)strlen(r->v.created) : w_created;
	}
	printf("%-*s%-*s%-*s%-*s%s\n", w_id + PAD, "ID", w_pid + PAD, "PID", w_status + PAD,
	       "STATUS", w_created + PAD, "CREATED", "ROOTFS");
	for (size_t i = 0; i < rows->n; i++) {
		const struct row *r = &rows->r[i];
		snprintf(pid, sizeof(pid), "%lld", shown_pid(r));
		print_cell(r->v.id, w_id + PAD);
		print_cell(pid, w_pid + PAD);
		print_cell(r->status, w_status + PAD);
		print_cell(r->v.created, w_created + PAD);
		print_cell(r->v.rootfs, 0);
		putchar('\n');
	}
}

/* runc list --format json's keys, those we have. */
static int print_json(const struct rows *rows)
{
	struct pd_json j;
	struct pd_error err;
	pd_json_init(&j, PD_STATE_MAX_BYTES);
	pd_json_begin_array(&j);
	for (size_t i = 0; i < rows->n; i++) {
		const struct row *r = &rows->r[i];
		pd_json_begin_object(&j);
		pd_json_kv_string(&j, "id", r->v.id);
		pd_json_kv_int(&j, "pid", shown_pid(r));
		pd_json_kv_string(&j, "status", r->status);
		pd_json_kv_string(&j, "rootfs", r->v.rootfs);
		pd_json_kv_string(&j, "created", r->v.created);
		pd_json_end_object(&j);
	}
	pd_json_end_array(&j);
	int rc = pd_json_finish(&j, &err);
	if (rc < 0)
		fprintf(stderr, "pidone list: %s\n", err.msg);
	else
		printf("%s\n", j.buf);
	pd_json_free(&j);
	return rc < 0 ? 1 : 0;
}

static int cmd_list(const struct opts *o)
{
	struct rows rows = {0};
	int rc = walk_root(o->root, collect, &rows) < 0 ? 1 : 0;
	if (rc == 0) {
		if (rows.n > 1)
			qsort(rows.r, rows.n, sizeof(*rows.r), by_id);
		if (o->quiet)
			for (size_t i = 0; i < rows.n; i++)
				printf("%s\n", rows.r[i].v.id);
		else if (!strcmp(o->format, "json"))
			rc = print_json(&rows);
		else
			print_table(&rows);
	}
	for (size_t i = 0; i < rows.n; i++)
		pd_state_view_free(&rows.r[i].v);
	free(rows.r);
	return rc;
}

/* --- state --------------------------------------------------------------------------------- */

struct find {
	const char *id;
	char path[PATH_MAX];
};

static int match(const char *path, const char *ctr_name, void *ctx)
{
	struct find *f = ctx;
	if (strcmp(ctr_name, f->id))
		return 0;
	snprintf(f->path, sizeof(f->path), "%s", path);
	return 1;
}

/* The file as it is, except a status that is no longer true. */
static int cmd_state(const struct opts *o)
{
	struct find f = {.id = o->id};
	if (walk_root(o->root, match, &f) < 0)
		return 1;
	if (!f.path[0]) {
		fprintf(stderr, "pidone state: container \"%s\" does not exist\n", o->id);
		return 1;
	}
	struct pd_state_view v;
	struct pd_error err;
	char *text;
	size_t len;
	if (pd_state_view_load(f.path, &v, &text, &len, &err) < 0) {
		fprintf(stderr, "pidone state: %s\n", err.msg);
		return 1;
	}
	const char *now = live_status(&v);
	if (v.has_status && strcmp(now, v.status)) {
		fwrite(text, 1, v.status_start, stdout);
		fputs(now, stdout);
		fwrite(text + v.status_end, 1, len - v.status_end, stdout);
	} else {
		fwrite(text, 1, len, stdout);
	}
	if (!len || text[len - 1] != '\n')
		putchar('\n');
	free(text);
	pd_state_view_free(&v);
	return 0;
}

int pd_state_cmd(int argc, char **argv)
{
	if (argc < 1 || !argv[0] || (strcmp(argv[0], "list") && strcmp(argv[0], "state")))
		return usage(argc >= 1 && argv[0] ? argv[0] : "?", "unknown command");
	struct opts o = {.verb = argv[0], .root = PD_STATE_ROOT, .format = "table"};
	int rc = parse_opts(argc, argv, &o);
	if (rc == 0 && o.help)
		usage(o.verb, NULL);
	else if (rc == 0)
		rc = !strcmp(o.verb, "list") ? cmd_list(&o) : cmd_state(&o);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
