/* SPDX-License-Identifier: MIT */
/* test_rundir.c: one writer per run directory. A second locker (a forked
 * process) fails at once naming the directory and the holder's PID; the
 * holder is seen without taking the lock; the lock goes with its process,
 * even a killed one; stale temporary files of dead processes (zombies
 * too) are removed, those of live ones kept. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, kill */
#include "check.h"

#include <cgrad.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a child: try to lock dir; exit 0 if refused with a message naming
 * dir and `holder`, 1 if it got the lock, 2 otherwise. */
static int child_lock_refused(const char *dir, long holder)
{
    pid_t p = fork();
    if (p == 0) {
        cg_run_lock *l = NULL;
        int rc = cg_run_dir_lock(dir, &l);
        if (rc == CG_OK) _exit(1);
        char want[64];
        snprintf(want, sizeof want, "in use by process %ld", holder);
        _exit(rc == CG_ERR_STATE && strstr(cg_last_error(), dir) && strstr(cg_last_error(), want)
                  ? 0 : 2);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void touch(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

int main(void)
{
    char dir[] = "/tmp/cg_rundir_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    long pid = -1;

    /* No lock file yet: not held. */
    CHECK(cg_run_dir_holder(dir, &pid) == 0 && pid == 0);

    /* Held by us: a second locker (another process) is refused. */
    cg_run_lock *l = NULL;
    CHECK(cg_run_dir_lock(dir, &l) == CG_OK && l != NULL);
    CHECK(cg_run_dir_holder(dir, &pid) == 1 && pid == (long)getpid());
    CHECK(child_lock_refused(dir, (long)getpid()) == 0);
    /* ... and so is a second lock in this process. */
    cg_run_lock *l2 = NULL;
    CHECK(cg_run_dir_lock(dir, &l2) == CG_ERR_STATE && l2 == NULL);
    CHECK_ERROR("is in use by process");
    cg_run_dir_unlock(l);
    CHECK(cg_run_dir_holder(dir, &pid) == 0);

    /* A child holds it until it is killed; the kernel then frees it. */
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t c = fork();
    if (c == 0) {
        cg_run_lock *cl = NULL;
        char ok = cg_run_dir_lock(dir, &cl) == CG_OK ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1) _exit(3);
        for (;;) pause();
    }
    char ok = 0;
    CHECK(read(ready[0], &ok, 1) == 1 && ok == 'y');
    CHECK(cg_run_dir_holder(dir, &pid) == 1 && pid == (long)c);
    CHECK(cg_run_dir_lock(dir, &l) == CG_ERR_STATE);
    char want[64];
    snprintf(want, sizeof want, "'%s' is in use by process %ld", dir, (long)c);
    CHECK_ERROR(want);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    CHECK(cg_run_dir_holder(dir, &pid) == 0);
    CHECK(cg_run_dir_lock(dir, &l) == CG_OK);
    cg_run_dir_unlock(l);

    /* Stale temporary files: a dead process's go, a live one's stay, and
     * names that only look alike are not touched. */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char name[128];
    snprintf(name, sizeof name, "last.safetensors.tmp.%ld", (long)dead);
    touch(dir, name);
    char mine[128];
    snprintf(mine, sizeof mine, "best.safetensors.tmp.%ld", (long)getpid());
    touch(dir, mine);
    touch(dir, "notes.tmp.12ab");
    touch(dir, "metrics.jsonl");
    int removed = -1;
    CHECK(cg_run_dir_clean_stale(dir, &removed) == CG_OK);
    CHECK(removed == 1);
    CHECK(!exists(dir, name));
    CHECK(exists(dir, mine) && exists(dir, "notes.tmp.12ab") && exists(dir, "metrics.jsonl"));

    /* A killed writer not yet reaped (a zombie) is dead too: its file goes
     * while its PID still answers kill(pid, 0). */
    pid_t zombie = fork();
    if (zombie == 0) _exit(0);
    siginfo_t info; /* WNOWAIT: wait for its exit, leave it unreaped */
    CHECK(waitid(P_PID, (id_t)zombie, &info, WEXITED | WNOWAIT) == 0);
    CHECK(kill(zombie, 0) == 0);
    snprintf(name, sizeof name, "last.safetensors.tmp.%ld", (long)zombie);
    touch(dir, name);
    CHECK(cg_run_dir_clean_stale(dir, &removed) == CG_OK);
    CHECK(removed == 1 && !exists(dir, name));
    waitpid(zombie, NULL, 0);

    /* A directory that does not exist is an I/O error naming it. */
    char gone[4200];
    snprintf(gone, sizeof gone, "%s/nope", dir);
    CHECK(cg_run_dir_lock(gone, &l) == CG_ERR_IO);
    CHECK_ERROR(gone);
    CHECK(cg_run_dir_holder(gone, &pid) == CG_ERR_IO);
    CHECK(cg_run_dir_clean_stale(gone, NULL) == CG_ERR_IO);

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
