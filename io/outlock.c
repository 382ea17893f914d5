/* outlock.c - the advisory lock that keeps two runs off one output. */
#include "outlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listing.h"

/* "HOST PID" from a lock file, for the message; "unknown" if unreadable. */
static void holder(int fd, char *out, size_t cap)
{
    char buf[300];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    char host[256] = "", *nl = strchr(buf, '\n');
    long pid = 0;
    if (nl)
        *nl = '\0';
    if (sscanf(buf, "%255s %ld", host, &pid) == 2)
        snprintf(out, cap, "host %s, pid %ld", host, pid);
    else
        snprintf(out, cap, "host and pid not yet written");
}

vr_status vr_outlock_acquire_folder(vr_outlock *l, const char *output, int shared)
{
    l->fd = -1;
    l->keep = 1;
    snprintf(l->path, sizeof l->path, "%s.lock", output);
    const char *off = getenv("VITRUN_NO_LOCK");
    if (off && *off && strcmp(off, "0"))
        return VR_OK;
    int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the folder's lock file: %s", l->path,
                       strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = shared ? F_RDLCK : F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        close(fd);
        if (e == EACCES || e == EAGAIN)
            return vr_fail(VR_ERR_USAGE, "%s", shared
                           ? "a run without --claim owns this folder; wait for it to end, or "
                             "give this run a folder of its own"
                           : "other vitrun jobs write this folder (with --claim, or another run "
                             "that owns it); join them with --claim, or wait for them to end");
        return vr_fail(VR_ERR_OUTPUT, "%s: the file system refused a lock (%s): on NFSv3 run "
                       "lockd, on Lustre mount with -o flock; or set VITRUN_NO_LOCK=1", l->path,
                       strerror(e));
    }
    l->fd = fd;
    return VR_OK;
}

vr_status vr_outlock_acquire(vr_outlock *l, const char *output)
{
    l->fd = -1;
    l->keep = 0;
    snprintf(l->path, sizeof l->path, "%s.lock", output);
    const char *off = getenv("VITRUN_NO_LOCK");
    if (off && *off && strcmp(off, "0"))
        return VR_OK;
    /* the file can be removed by its holder between our open and our lock:
     * then what we locked is no longer OUT.lock, and we try again */
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == ENOENT) {
            char dir[4096];
            vr_dirname(output, dir, sizeof dir);
            return vr_fail(VR_ERR_OUTPUT, "--output %s: its folder %s does not exist; create it "
                           "first", output, dir);
        }
        if (fd < 0)
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the output's lock file: %s; the "
                           "folder of --output must be writable", l->path, strerror(errno));
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &fl) != 0) {
            int e = errno;
            char who[300];
            holder(fd, who, sizeof who);
            close(fd);
            if (e == EACCES || e == EAGAIN)
                return vr_fail(VR_ERR_USAGE, "another vitrun (%s) is writing %s; wait for it "
                               "to end or stop it (a second run would corrupt the output)",
                               who, output);
            return vr_fail(VR_ERR_OUTPUT, "%s: the file system refused a lock (%s): on NFSv3 "
                           "run lockd, on Lustre mount with -o flock; or set VITRUN_NO_LOCK=1 "
                           "and make sure no two runs write %s", l->path, strerror(e), output);
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(l->path, &b) != 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino) {
            close(fd);
            continue;
        }
        char host[256] = "?", line[320];
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        int n = snprintf(line, sizeof line, "%s %ld\n", host, (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
            int e = errno;
            close(fd);
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot write the lock file: %s", l->path,
                           strerror(e));
        }
        l->fd = fd;
        return VR_OK;
    }
    return vr_fail(VR_ERR_OUTPUT, "%s: the lock file kept being replaced while taking it; is "
                   "another vitrun starting and stopping on %s?", l->path, output);
}

void vr_outlock_release(vr_outlock *l)
{
    if (l->fd < 0)
        return;
    if (!l->keep)
        unlink(l->path); /* while held: whoever locks next checks it is still the file */
    close(l->fd);
    l->fd = -1;
}
