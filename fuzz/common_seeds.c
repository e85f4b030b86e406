/* Seed corpora: every target writes its own (it knows its input format), from the files in
 * fuzz/seeds, the Kata wire vectors and inputs it builds. */
#include "common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_FILE_MAX (1u << 20)

const char *fz_seed_dir(void)
{
	const char *d = getenv("FUZZ_WRITE_SEEDS");
	return d && d[0] ? d : NULL;
}

void fz_seed_write(const char *dir, const char *name, int prefix, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	FILE *f = fopen(path, "wb");
	uint8_t p = (uint8_t)prefix;
	if (!f || (prefix >= 0 && fwrite(&p, 1, 1, f) != 1) ||
	    (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		fprintf(stderr, "fuzz: cannot write %s\n", path);
		exit(1);
	}
}

const uint8_t *fz_seed_file(const char *name, size_t *len)
{
	static uint8_t buf[SEED_FILE_MAX];
	char path[4096];
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", PD_FUZZ_SEEDS, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz: cannot read %s\n", path);
		exit(1);
	}
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

unsigned fz_seed_files(const char *dir, const char *prefix, int selector)
{
	DIR *d = opendir(PD_FUZZ_SEEDS);
	unsigned n = 0;
	struct dirent *e;
	if (!d) {
		fprintf(stderr, "fuzz: cannot open %s\n", PD_FUZZ_SEEDS);
		exit(1);
	}
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		size_t len;
		const uint8_t *p = fz_seed_file(e->d_name, &len);
		fz_seed_write(dir, e->d_name, selector, p, len);
		n++;
	}
	closedir(d);
	return n;
}
