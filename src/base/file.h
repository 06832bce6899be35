/*
 * Host file helpers (not for the boot core).
 *
 * imago_file_read(): reads a whole regular file of at most max bytes into a
 * buffer it allocates; the caller frees it with imago_file_free() (which
 * wipes it first, so key files can use the same call).  A file larger than
 * max gives IMAGO_ETOOBIG, a missing one IMAGO_ENOTFOUND, other failures
 * IMAGO_EIO.
 *
 * imago_file_write_atomic(): writes data to path with the given mode through
 * a temporary file in the same directory, fsync, then rename, so a reader
 * sees either the old file or the complete new one, never a partial write.
 * The mode is applied when the file is created (no window where a private
 * key file is readable by others).
 */
#ifndef IMAGO_BASE_FILE_H
#define IMAGO_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int imago_file_read(const char *path, size_t max, uint8_t **data, size_t *len);
void imago_file_free(uint8_t *data, size_t len);

int imago_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Like imago_file_write_atomic(), but never replaces a file: the complete
 * temporary file is link()ed to path, which fails with IMAGO_EEXIST if path
 * exists (also when it appears concurrently).  For keys and certificates.
 */
int imago_file_write_new(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Open rel ('/'-separated components) beneath the directory dirfd for reading, following no
 * symbolic link at any level and refusing empty, "." and ".." components; the last component
 * must be a regular file (opened O_NONBLOCK, so a FIFO cannot block the caller).  Returns the
 * descriptor (the caller closes it) or -1; dirfd stays open.  For serving files named by
 * untrusted requests (imago-cloud's block transfer and repository route).
 */
#define IMAGO_FILE_BENEATH_MAX 1024
int imago_file_open_beneath(int dirfd, const char *rel);

#endif
