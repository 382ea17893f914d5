/* h5util.c - HDF5 attribute and naming helpers. */
#include "h5util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char vr_h5_last_why[256]; /* why the last variable-length string read failed */

static double vr_h5_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void vr_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int vr_h5_exists(hid_t loc, const char *path)
{
    char buf[1024];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
                return 0;
            buf[i] = saved;
        }
    }
    return 1;
}

static hid_t open_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    return H5Aopen(obj, name, H5P_DEFAULT);
}

int vr_h5_attr_i64(hid_t obj, const char *name, long long *out)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = H5Tget_class(t) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 1 &&
             H5Aread(a, H5T_NATIVE_LLONG, out) >= 0;
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

int vr_h5_attr_f64(hid_t obj, const char *name, double *out, size_t n)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cl = H5Tget_class(t);
    int ok = (cl == H5T_FLOAT || cl == H5T_INTEGER) &&
             H5Sget_simple_extent_npoints(sp) == (hssize_t)n &&
             H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0;
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

/* --- variable-length strings, read in a child process ------------------
 *
 * libhdf5 1.10 reads a variable-length string from the file's global heap,
 * and a damaged or crafted heap crashes it (SIGSEGV and heap overflows in
 * H5HG_read) or makes it loop for ever (H5C_protect): found by fuzzing the
 * model loader, tests/fuzz/regressions/. A model or input file is the
 * user's, and reading it must end in a message. So such strings are read by
 * a forked child (which shares the open HDF5 ids with this process and
 * reads the same bytes) and handed back through a pipe: a crash or a hang
 * costs the child, not the run. Files written by vitrun's converters store
 * fixed-length strings, which need none of this; only older files and
 * inputs written with variable-length strings pay for the fork (about a
 * millisecond). The child touches no MPI state and leaves with _exit. */

#define VLEN_TIMEOUT_S 30.0 /* a string read takes microseconds; VITRUN_HDF5_STRING_TIMEOUT */
#define VLEN_MAX_BYTES ((size_t)64 << 20) /* all a batch of names or labels can need */
#define VLEN_CHILD_HEAP ((size_t)512 << 20)  /* what the reader may add to its data */

/* A heap that claims a 2 GB string made the child allocate and clear it
 * (3.6 GB resident, 32 s; tests/fuzz/regressions/fuzz_input_h5): the
 * child's data segment (RLIMIT_DATA: heap and private writable mappings,
 * Linux >= 4.7) is capped at what it inherited plus VLEN_CHILD_HEAP, so such
 * a read fails at once. Not RLIMIT_AS: ASan reserves terabytes of shadow
 * address space as it goes; its shadow is already counted in VmData. */
static void cap_child_memory(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmData: %llu kB", &kb) == 1)
            break;
    fclose(fp);
    if (kb) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)kb * 1024 + (rlim_t)VLEN_CHILD_HEAP;
        setrlimit(RLIMIT_DATA, &rl);
    }
}

static double vlen_timeout(void)
{
    const char *e = getenv("VITRUN_HDF5_STRING_TIMEOUT");
    double t = e ? atof(e) : 0.0;
    return t > 0.0 ? t : VLEN_TIMEOUT_S;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Child: reads `count` strings (from `first`, datasets only) and writes them,
 * each followed by a NUL, to fd. Returns the child's exit code. */
static int vlen_child(hid_t obj, int is_dataset, hsize_t first, hsize_t count, int fd)
{
    char **s = calloc(count ? count : 1, sizeof *s);
    hid_t t = is_dataset ? H5Dget_type(obj) : H5Aget_type(obj);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t));
    herr_t e;
    if (!s)
        return 3;
    if (is_dataset) {
        hid_t fs = H5Dget_space(obj), ms = H5Screate_simple(1, &count, NULL);
        e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &first, NULL, &count, NULL);
        if (e >= 0)
            e = H5Dread(obj, mt, ms, fs, H5P_DEFAULT, s);
    } else {
        e = H5Aread(obj, mt, s);
    }
    if (e < 0)
        return 4;
    for (hsize_t i = 0; i < count; i++) {
        const char *v = s[i] ? s[i] : "";
        if (write_full(fd, v, strlen(v) + 1) != 0)
            return 5;
    }
    return 0;
}

int vr_h5_read_vlen(hid_t obj, int is_dataset, size_t first, size_t count, char **out,
                    size_t *len, char *why, size_t whycap)
{
    *out = NULL;
    *len = 0;
    why[0] = '\0';
    int p[2];
    if (pipe(p) != 0) {
        snprintf(why, whycap, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whycap, "cannot fork a reader: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* vitrun's stop handlers and MPI's crash banners are the parent's */
        static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGSEGV, SIGBUS, SIGFPE,
                                   SIGILL, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        cap_child_memory();
        _exit(vlen_child(obj, is_dataset, (hsize_t)first, (hsize_t)count, p[1]));
    }
    close(p[1]);
    size_t cap = 0, n = 0;
    char *buf = NULL;
    double t_end = vr_h5_now() + vlen_timeout();
    int timed_out = 0, too_big = 0;
    for (;;) {
        double left = t_end - vr_h5_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {p[0], POLLIN, 0};
        int r = poll(&pf, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue; /* the deadline is checked above */
        if (n + 65536 > cap) {
            size_t nc = cap ? 2 * cap : 65536;
            char *nb = nc <= VLEN_MAX_BYTES ? realloc(buf, nc + 1) : NULL;
            if (!nb) {
                too_big = 1;
                break;
            }
            buf = nb;
            cap = nc;
        }
        ssize_t got = read(p[0], buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(p[0]);
    if (timed_out || too_big)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    size_t nuls = 0;
    for (size_t i = 0; i < n; i++)
        nuls += buf[i] == '\0';
    if (timed_out)
        snprintf(why, whycap, "the HDF5 library did not finish reading it in %.0f s (a damaged "
                 "global heap makes libhdf5 loop)", vlen_timeout());
    else if (too_big)
        snprintf(why, whycap, "its strings take over %zu bytes", VLEN_MAX_BYTES);
    else if (WIFSIGNALED(status))
        snprintf(why, whycap, "the HDF5 library crashed reading it (signal %d, %s): the file's "
                 "global heap is damaged", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || nuls != count)
        snprintf(why, whycap, "the HDF5 library could not read it (reader exit %d): the file "
                 "is damaged", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (why[0]) {
        free(buf);
        return -1;
    }
    if (!buf && !(buf = calloc(1, 1))) {
        snprintf(why, whycap, "out of memory");
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

int vr_h5_attr_str(hid_t obj, const char *name, char *out, size_t cap)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = 0;
    /* one string, scalar or of one element: H5Aread writes every element */
    if (H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL, why[256];
            size_t n;
            if (vr_h5_read_vlen(a, 0, 0, 1, &s, &n, why, sizeof why) == 0) {
                snprintf(out, cap, "%s", s);
                ok = 1;
            } else {
                snprintf(vr_h5_last_why, sizeof vr_h5_last_why, "%s", why);
                ok = -2;
            }
            free(s);
        } else {
            size_t sz = H5Tget_size(t);
            char *buf = sz <= VR_H5_MAX_FIXED_STR ? calloc(sz + 1, 1) : NULL;
            if (buf && H5Aread(a, t, buf) >= 0) {
                snprintf(out, cap, "%s", buf);
                ok = 1;
            }
            free(buf);
        }
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok == 1 ? 0 : ok == -2 ? -2 : -1;
}

const char *vr_h5_string_error(void) { return vr_h5_last_why; }

void vr_h5_attr_describe(hid_t obj, const char *name, char *buf, size_t cap)
{
    hid_t a = open_attr(obj, name);
    if (a < 0) {
        snprintf(buf, cap, "missing");
        return;
    }
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char tn[32];
    vr_h5_type_name(t, tn, sizeof tn);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (n == 1)
        snprintf(buf, cap, "%s%s", H5Tget_class(t) == H5T_STRING ? "a " : "", tn);
    else
        snprintf(buf, cap, "%lld values of %s", (long long)n, tn);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
}

void vr_h5_fmt_dims(char *buf, size_t cap, const hsize_t *d, int n)
{
    size_t off = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%llu", i ? ", " : "",
                                (unsigned long long)d[i]);
    if (off < cap)
        snprintf(buf + off, cap - off, "]");
}

void vr_h5_type_name(hid_t type, char *buf, size_t cap)
{
    size_t bits = 8 * H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: snprintf(buf, cap, "float%zu", bits); break;
    case H5T_INTEGER:
        snprintf(buf, cap, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_STRING: snprintf(buf, cap, "string"); break;
    default: snprintf(buf, cap, "a non-numeric type"); break;
    }
}
