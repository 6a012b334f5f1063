/* SPDX-License-Identifier: MIT */
/* rundir.c: one writer per run directory (an exclusive flock on DIR/.lock
 * holding the writer's PID), the reader's question "is a writer alive?",
 * and the removal of temporary files dead writers left behind. */
#define _DEFAULT_SOURCE /* flock, kill (glibc) */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cg_run_lock {
    int fd;
};

/* DIR/.lock into buf; CG_ERR_ARG when it does not fit. */
static int lock_path(const char *dir, char *buf, size_t size, const char *fn)
{
    if (!dir || !*dir) return cg_error(CG_ERR_ARG, "%s: NULL or empty directory", fn);
    int n = snprintf(buf, size, "%s/.lock", dir);
    if (n < 0 || (size_t)n >= size) return cg_error(CG_ERR_ARG, "%s: directory name too long", fn);
    return CG_OK;
}

static int dir_exists(const char *dir, const char *fn)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return cg_error(CG_ERR_IO, "%s: run directory '%s': %s", fn, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cg_error(CG_ERR_IO, "%s: run directory '%s' is not a directory", fn, dir);
    return CG_OK;
}

/* The PID written in the lock file (0 if none yet). */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

int cg_run_dir_lock(const char *dir, cg_run_lock **out)
{
    static const char fn[] = "cg_run_dir_lock";
    if (!out) return cg_error(CG_ERR_ARG, "%s: NULL argument", fn);
    *out = NULL;
    char path[4096];
    if (lock_path(dir, path, sizeof path, fn) || dir_exists(dir, fn)) return cg_last_error_code();
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return cg_error(CG_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
    /* A reader's probe (cg_run_dir_holder) holds a shared lock for an
     * instant: a few retries over 50 ms ride over it, while a real writer
     * holds the lock for its whole run. */
    int rc = -1;
    for (int attempt = 0; attempt < 10; attempt++) {
        rc = flock(fd, LOCK_EX | LOCK_NB);
        if (rc == 0 || errno != EWOULDBLOCK) break;
        struct timespec nap = {0, 5000000};
        nanosleep(&nap, NULL);
    }
    if (rc != 0) {
        int e = errno;
        long pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
        close(fd);
        if (e != EWOULDBLOCK)
            return cg_error(CG_ERR_IO, "%s: cannot lock '%s': %s", fn, path, strerror(e));
        if (pid)
            return cg_error(CG_ERR_STATE,
                            "run directory '%s' is in use by process %ld (another run writes "
                            "there; wait for it to end or choose another directory)", dir, pid);
        return cg_error(CG_ERR_STATE,
                        "run directory '%s' is in use by another process (another run writes "
                        "there; wait for it to end or choose another directory)", dir);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return cg_error(CG_ERR_IO, "%s: cannot write '%s': %s", fn, path, strerror(e));
    }
    cg_run_lock *l = cg_malloc(sizeof *l);
    if (!l) {
        close(fd);
        return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    }
    l->fd = fd;
    *out = l;
    return CG_OK;
}

void cg_run_dir_unlock(cg_run_lock *lock)
{
    if (!lock) return;
    /* The PID goes first, so that no reader ever sees a stale one. */
    if (ftruncate(lock->fd, 0) != 0) { /* nothing to do: close releases the lock anyway */ }
    close(lock->fd); /* releases the flock */
    cg_free(lock);
}

int cg_run_dir_holder(const char *dir, long *pid)
{
    static const char fn[] = "cg_run_dir_holder";
    if (pid) *pid = 0;
    char path[4096];
    if (lock_path(dir, path, sizeof path, fn) || dir_exists(dir, fn)) return cg_last_error_code();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return cg_error(CG_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
    }
    int held = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
    } else if (errno == EWOULDBLOCK) {
        held = 1;
        if (pid) *pid = read_pid(fd);
    } else {
        int e = errno;
        close(fd);
        return cg_error(CG_ERR_IO, "%s: cannot probe '%s': %s", fn, path, strerror(e));
    }
    close(fd);
    return held;
}

/* The PID of a temporary file's name "NAME.tmp.PID", or 0 if it is not
 * one. */
static long tmp_pid(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name) return 0;
    const char *p;
    while ((p = strstr(t + 1, ".tmp.")) != NULL) t = p; /* the last one */
    const char *digits = t + 5;
    if (!*digits) return 0;
    for (const char *c = digits; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    errno = 0;
    long pid = strtol(digits, NULL, 10);
    return errno || pid <= 0 ? 0 : pid;
}

/* No process has this PID (one we may not signal is alive), or only a
 * zombie: a killed writer whose parent has not reaped it yet. Its PID
 * answers kill(pid, 0) for as long as that takes (a container's init can
 * take a second or more), and it can write nothing more. */
static int pid_dead(long pid)
{
    if (kill((pid_t)pid, 0) != 0) return errno == ESRCH;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so
     * the state follows the last ')'. */
    const char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

int cg_run_dir_clean_stale(const char *dir, int *removed)
{
    static const char fn[] = "cg_run_dir_clean_stale";
    if (removed) *removed = 0;
    if (!dir || !*dir) return cg_error(CG_ERR_ARG, "%s: NULL or empty directory", fn);
    DIR *d = opendir(dir);
    if (!d) return cg_error(CG_ERR_IO, "%s: run directory '%s': %s", fn, dir, strerror(errno));
    int rc = CG_OK;
    const long self = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = tmp_pid(e->d_name);
        if (!pid || pid == self || !pid_dead(pid)) continue;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        if (unlink(path) != 0) {
            if (errno == ENOENT) continue; /* another cleaner was first */
            rc = cg_error(CG_ERR_IO, "%s: cannot remove '%s': %s", fn, path, strerror(errno));
            break;
        }
        if (removed) (*removed)++;
    }
    closedir(d);
    return rc;
}

/* mkdir -p. */
int cg_make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *buf = cg_malloc(n + 1);
    if (!buf) return cg_error(CG_ERR_MEMORY, "cannot create directory '%s': out of memory", dir);
    memcpy(buf, dir, n + 1);
    int rc = CG_OK;
    for (size_t i = 1; i <= n && !rc; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            rc = cg_error(CG_ERR_IO, "cannot create directory '%s': %s", dir, strerror(errno));
        buf[i] = c;
    }
    cg_free(buf);
    struct stat st;
    if (!rc && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = cg_error(CG_ERR_IO, "cannot create directory '%s': %s", dir,
                      stat(dir, &st) != 0 ? strerror(errno) : strerror(ENOTDIR));
    return rc;
}
