/* The parts of pd_copy_file (copyfile.c: checks, parents, directories, symlinks;
 * copyfile_chunk.c: regular files). Private to those files. `parent` is always an O_PATH fd
 * of the directory resolved under the base, `name` one component in it. */
#ifndef PD_COPYFILE_STEPS_H
#define PD_COPYFILE_STEPS_H

#include "agent/copyfile.h"

/* Store one chunk of a regular file; rename the temp file into place once complete. */
int pd_copy_chunk(int parent, const char *name, const struct pd_copy_req *r,
		  enum pd_copy_done *done, struct pd_error *err);

/* Remove what is at name (a file, a symlink or an empty directory); nothing there is fine. */
int pd_copy_remove(int parent, const char *name, struct pd_error *err);

#endif
