/* claims.c - the shared output folder's file-system protocol (claims.h). */
#include "claims.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Generations of one shard's claim looked at: a takeover each lease, so
 * this many would take a shard no process ever finishes. */
#define MAX_GEN 4096

static double mtime_of(const struct stat *sb)
{
    return (double)sb->st_mtim.tv_sec + 1e-9 * (double)sb->st_mtim.tv_nsec;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static vr_status make_dir(const char *p, const char *what)
{
    struct stat sb;
    if (mkdir(p, 0777) == 0 || (errno == EEXIST && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return VR_OK;
    if (errno == EEXIST)
        return vr_fail(VR_ERR_USAGE, "%s %s exists and is not a folder; name a folder for the "
                       "per-shard outputs", what, p);
    return vr_fail(VR_ERR_OUTPUT, "cannot create the folder %s (%s): %s", p, what, strerror(errno));
}

vr_status vr_outdir_open(vr_outdir *d, const char *dir, const char *ext, int npy, int create)
{
    memset(d, 0, sizeof *d);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len == 0 || len + 32 >= sizeof d->dir)
        return vr_fail(VR_ERR_USAGE, "--output '%s': expected a folder name of 1 to %zu bytes",
                       dir, sizeof d->dir - 32);
    memcpy(d->dir, dir, len);
    snprintf(d->meta, sizeof d->meta, "%s/.vitrun", d->dir);
    snprintf(d->claims, sizeof d->claims, "%s/claims", d->meta);
    snprintf(d->tmp, sizeof d->tmp, "%s/tmp", d->meta);
    snprintf(d->failed, sizeof d->failed, "%s/failed", d->meta);
    snprintf(d->ext, sizeof d->ext, "%s", ext);
    d->npy = npy;
    if (!create)
        return VR_OK;
    vr_status st;
    if ((st = make_dir(d->dir, "--output")) || (st = make_dir(d->meta, "--output's")) ||
        (st = make_dir(d->claims, "--output's")) || (st = make_dir(d->tmp, "--output's")) ||
        (st = make_dir(d->failed, "--output's")))
        return st;
    return VR_OK;
}

void vr_outdir_file(const vr_outdir *d, const char *stem, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.%s", d->dir, stem, ext);
}

int vr_outdir_done(const vr_outdir *d, const char *stem)
{
    char p[VR_OUTDIR_PATH + 300];
    vr_outdir_file(d, stem, d->ext, p, sizeof p);
    if (!exists(p))
        return 0;
    if (!d->npy)
        return 1;
    vr_outdir_file(d, stem, "npy", p, sizeof p);
    return exists(p);
}

/* A name made of `who` that is safe as one path component. */
static void component(const char *who, char *out, size_t cap)
{
    size_t i = 0;
    for (; who[i] && i + 1 < cap; i++)
        out[i] = (who[i] == '/' || who[i] == ' ') ? '_' : who[i];
    out[i] = '\0';
}

double vr_outdir_clock(const vr_outdir *d, const char *who)
{
    char name[200], p[VR_OUTDIR_PATH + 256];
    component(who, name, sizeof name);
    snprintf(p, sizeof p, "%s/.clock-%s", d->claims, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", p, strerror(errno));
        return -1;
    }
    /* a write, so that the server stamps the time (close flushes it) */
    ssize_t w = write(fd, "t\n", 2);
    close(fd);
    struct stat sb;
    if (w != 2 || stat(p, &sb) != 0) {
        vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", p, strerror(errno));
        return -1;
    }
    return mtime_of(&sb);
}

static void claim_path(const vr_outdir *d, const char *stem, int gen, const char *suffix,
                       char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.%d%s", d->claims, stem, gen, suffix);
}

static int write_claim(int fd, const char *who, double started, long long rows)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "who=%s\nstarted=%.3f\nrows=%lld\n", who, started, rows);
    if (n < 0 || (size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    return write(fd, buf, (size_t)n) == n ? 0 : -1;
}

/* Reads claim `gen` of `stem`; 0, or -1 when it is gone. */
static int read_claim(const vr_outdir *d, const char *stem, int gen, vr_claim_info *ci)
{
    char p[VR_OUTDIR_PATH + 300], buf[512];
    memset(ci, 0, sizeof *ci);
    ci->gen = gen;
    claim_path(d, stem, gen, "", p, sizeof p);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    ssize_t n = fstat(fd, &sb) == 0 ? read(fd, buf, sizeof buf - 1) : -1;
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    ci->renewed = mtime_of(&sb);
    /* a claim being rewritten may read empty: its time still counts */
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "who=", 4))
            snprintf(ci->who, sizeof ci->who, "%s", line + 4);
        else if (!strncmp(line, "started=", 8))
            ci->started = atof(line + 8);
        else if (!strncmp(line, "rows=", 5))
            ci->rows = atoll(line + 5);
    }
    claim_path(d, stem, gen, ".dup", p, sizeof p);
    ci->helped = exists(p);
    return 0;
}

/* The newest generation of the shard's claim, or -1 when it has none.
 * Generations are 0..top; a hole can come only from a stale holder that
 * woke up and let its own claim go, so one missing generation is stepped
 * over. */
static int top_gen(const vr_outdir *d, const char *stem)
{
    char p[VR_OUTDIR_PATH + 300];
    int top = -1;
    for (int g = 0; g < MAX_GEN && g <= top + 2; g++) {
        claim_path(d, stem, g, "", p, sizeof p);
        if (exists(p))
            top = g;
    }
    return top;
}

/* O_EXCL creation of claim `gen`: 1 ours, 0 someone else's, -1 error. */
static int create_claim(const vr_outdir *d, const char *stem, int gen, const char *who,
                        double started, vr_claim *c)
{
    claim_path(d, stem, gen, "", c->path, sizeof c->path);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        vr_fail(VR_ERR_OUTPUT, "cannot create the claim %s: %s", c->path, strerror(errno));
        return -1;
    }
    int bad = write_claim(fd, who, started, 0);
    if (close(fd) != 0 || bad) {
        vr_fail(VR_ERR_OUTPUT, "cannot write the claim %s: %s", c->path, strerror(errno));
        unlink(c->path);
        return -1;
    }
    c->gen = gen;
    c->started = started;
    return 1;
}

vr_claim_result vr_claim_try(const vr_outdir *d, const char *stem, const char *who,
                             double lease, double now_fs, double started, vr_claim *c,
                             vr_claim_info *holder)
{
    memset(holder, 0, sizeof *holder);
    if (vr_outdir_done(d, stem))
        return VR_CLAIM_DONE;
    int top = top_gen(d, stem), next = top + 1;
    if (top >= MAX_GEN - 1) {
        vr_fail(VR_ERR_OUTPUT, "shard %s was taken over %d times (%s): a shard no process "
                "finishes; remove the files to try again", stem, top, d->claims);
        return VR_CLAIM_FAILED;
    }
    if (top >= 0) {
        if (read_claim(d, stem, top, holder) != 0)
            next = top; /* let go of between the two looks: its generation is free */
        else if (lease > 0 && now_fs - holder->renewed <= lease)
            return VR_CLAIM_HELD;
    }
    int r = create_claim(d, stem, next, who, started, c);
    if (r < 0)
        return VR_CLAIM_FAILED;
    if (r == 0) {
        read_claim(d, stem, next, holder);
        return VR_CLAIM_HELD;
    }
    /* the shard may have been committed (and its claims removed) between
     * the first look and the claim */
    if (vr_outdir_done(d, stem)) {
        unlink(c->path);
        return VR_CLAIM_DONE;
    }
    return VR_CLAIM_TAKEN;
}

int vr_claim_help(const vr_outdir *d, const char *stem, const vr_claim_info *holder,
                  const char *who)
{
    char p[VR_OUTDIR_PATH + 300];
    claim_path(d, stem, holder->gen, ".dup", p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return 0;
    write_claim(fd, who, 0, 0);
    close(fd);
    return 1;
}

int vr_claim_renew(const vr_claim *c, const char *who, long long rows)
{
    int fd = open(c->path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* never re-created */
    if (fd < 0)
        return 1;
    write_claim(fd, who, c->started, rows);
    close(fd);
    /* STEM.G -> STEM.G+1: someone took the shard over */
    char next[sizeof c->path + 16];
    const char *dot = strrchr(c->path, '.');
    if (!dot)
        return 0;
    snprintf(next, sizeof next, "%.*s.%d", (int)(dot - c->path), c->path, c->gen + 1);
    return exists(next);
}

void vr_claim_release(const vr_outdir *d, const char *stem, const vr_claim *mine, int all)
{
    char p[VR_OUTDIR_PATH + 300];
    if (!all) {
        if (!mine)
            return;
        /* only the newest generation goes: a hole below a live claim would
         * let a third process claim the shard again */
        claim_path(d, stem, mine->gen + 1, "", p, sizeof p);
        if (!exists(p)) {
            claim_path(d, stem, mine->gen, ".dup", p, sizeof p);
            unlink(p);
            unlink(mine->path);
        }
        return;
    }
    int top = top_gen(d, stem);
    for (int g = top + 1; g >= 0; g--) {
        claim_path(d, stem, g, ".dup", p, sizeof p);
        unlink(p);
        claim_path(d, stem, g, "", p, sizeof p);
        unlink(p);
    }
}

static void clear_folder(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    char p[VR_OUTDIR_PATH + 300];
    while ((de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(dp);
}

void vr_outdir_clear(const vr_outdir *d)
{
    clear_folder(d->claims);
    clear_folder(d->tmp);
    clear_folder(d->failed);
}

void vr_outdir_tmp_tag(const char *job, int replica, char *out, size_t cap)
{
    snprintf(out, cap, "%s-r%d", job, replica);
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
}

void vr_outdir_drop_tmp(const vr_outdir *d, const char *stem, const char *who)
{
    /* who is JOB/rR@HOST:PID (runtime/ledger.c) */
    const char *at = strchr(who, '@'), *r = at ? at : who + strlen(who);
    while (r > who && *r != '/')
        r--;
    if (r == who || r[1] != 'r')
        return;
    char job[256], t[300], p[VR_OUTDIR_PATH + 700];
    snprintf(job, sizeof job, "%.*s", (int)(r - who), who);
    vr_outdir_tmp_tag(job, atoi(r + 2), t, sizeof t);
    snprintf(p, sizeof p, "%s/%s.%s.%s.part", d->tmp, stem, t, d->ext);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s.%s.npy.part", d->tmp, stem, t);
    unlink(p);
}

void vr_outdir_mark_failed(const vr_outdir *d, const char *stem, const char *job)
{
    char p[VR_OUTDIR_PATH + 300];
    snprintf(p, sizeof p, "%s/%s", d->failed, stem);
    FILE *f = fopen(p, "w");
    if (f) {
        fprintf(f, "%s\n", job);
        fclose(f);
    }
}

int vr_outdir_failed_by(const vr_outdir *d, const char *stem, const char *job)
{
    char p[VR_OUTDIR_PATH + 300], buf[256] = "";
    snprintf(p, sizeof p, "%s/%s", d->failed, stem);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return got && !strcmp(buf, job);
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int vr_outdir_commit(const vr_outdir *d, const char *stem, const char *table_tmp,
                     const char *npy_tmp)
{
    char final[VR_OUTDIR_PATH + 300];
    vr_outdir_file(d, stem, d->ext, final, sizeof final);
    int won = link(table_tmp, final) == 0;
    if (!won && errno != EEXIST) {
        /* NFS may answer a retransmitted link() that did succeed with
         * EEXIST or another error: the link count tells */
        struct stat sb;
        if (!(stat(table_tmp, &sb) == 0 && sb.st_nlink == 2)) {
            vr_fail(VR_ERR_OUTPUT, "cannot link %s to %s: %s", table_tmp, final, strerror(errno));
            unlink(table_tmp);
            if (npy_tmp)
                unlink(npy_tmp);
            return -1;
        }
        won = 1;
    } else if (!won) {
        struct stat sb;
        won = stat(table_tmp, &sb) == 0 && sb.st_nlink == 2;
    }
    if (won && npy_tmp) {
        char npy[VR_OUTDIR_PATH + 300];
        vr_outdir_file(d, stem, "npy", npy, sizeof npy);
        if (rename(npy_tmp, npy) != 0) {
            vr_fail(VR_ERR_OUTPUT, "cannot rename %s to %s: %s", npy_tmp, npy, strerror(errno));
            unlink(final);
            unlink(table_tmp);
            unlink(npy_tmp);
            return -1;
        }
    }
    unlink(table_tmp);
    if (npy_tmp && !won)
        unlink(npy_tmp);
    if (won)
        sync_dir(d->dir);
    return won;
}

vr_status vr_manifest_append(const vr_outdir *d, const char *line)
{
    char p[VR_OUTDIR_PATH + 32];
    snprintf(p, sizeof p, "%s/manifest.csv", d->dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return vr_fail(VR_ERR_OUTPUT, "cannot open %s: %s", p, strerror(errno));
    const char *nolock = getenv("VITRUN_NO_LOCK");
    int locked = 0;
    if (!(nolock && !strcmp(nolock, "1"))) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        while (fcntl(fd, F_SETLKW, &fl) != 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return vr_fail(VR_ERR_OUTPUT, "cannot lock %s: %s (a file system without POSIX "
                           "locks: set VITRUN_NO_LOCK=1, and give each job its own folder)",
                           p, strerror(e));
        }
        locked = 1;
    }
    struct stat sb;
    vr_status st = VR_OK;
    size_t hl = strlen(VR_MANIFEST_HEADER), ll = strlen(line);
    if (fstat(fd, &sb) == 0 && sb.st_size == 0 &&
        write(fd, VR_MANIFEST_HEADER, hl) != (ssize_t)hl)
        st = vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", p, strerror(errno));
    if (!st && write(fd, line, ll) != (ssize_t)ll)
        st = vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", p, strerror(errno));
    if (!st)
        fdatasync(fd);
    if (locked) {
        struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        fcntl(fd, F_SETLK, &fl);
    }
    close(fd);
    return st;
}
