/* fuzz_util.c - temporary folders and fork hygiene for the fuzz targets. */
#define _GNU_SOURCE
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[1024];
static pid_t g_owner;

static int writable_dir(const char *d)
{
    struct stat sb;
    return d && *d && stat(d, &sb) == 0 && S_ISDIR(sb.st_mode) && access(d, W_OK | X_OK) == 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "fuzz: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

void vf_rmtree(const char *path, int self)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        if (self)
            remove(path);
        return;
    }
    /* children first (FTW_DEPTH), links as links (FTW_PHYS) */
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!self)
        mkdir(path, 0700);
}

static void cleanup(void)
{
    if (g_dir[0] && getpid() == g_owner)
        vf_rmtree(g_dir, 1);
}

/* A child forked by the code under test (io/h5util.c reads variable-length
 * strings in one, so that a crash or hang of libhdf5 ends in a message) is
 * the program's business: if it dies, the parent reports an error, as in
 * production. Without this, libFuzzer's crash handlers, inherited by the
 * child, would record the parent's input as a crash of the fuzzer. */
static void in_child(void)
{
    __sanitizer_set_death_callback(NULL);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM, SIGXFSZ};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

/* Folders of fuzz targets that died (a crash ends without atexit). */
static void remove_dead(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *e;
    char path[2048];
    while (d && (e = readdir(d))) {
        const char *dash = strrchr(e->d_name, '-');
        if (strncmp(e->d_name, "vitrun-fuzz-", 12) || !dash)
            continue;
        long pid = strtol(dash + 1, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            snprintf(path, sizeof path, "%s/%s", base, e->d_name);
            vf_rmtree(path, 1);
        }
    }
    if (d)
        closedir(d);
}

void vf_setup(const char *name)
{
    if (g_dir[0])
        return;
    const char *base = getenv("VITRUN_FUZZ_TMP");
    if (!writable_dir(base))
        base = writable_dir("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
    if (!writable_dir(base))
        base = "/tmp";
    remove_dead(base);
    g_owner = getpid();
    snprintf(g_dir, sizeof g_dir, "%s/vitrun-fuzz-%s-%ld", base, name, (long)g_owner);
    vf_rmtree(g_dir, 1); /* a leftover of a dead process with the same pid */
    if (mkdir(g_dir, 0700) != 0) {
        fprintf(stderr, "fuzz: cannot create %s: %s\n", g_dir, strerror(errno));
        abort();
    }
    atexit(cleanup);
    pthread_atfork(NULL, NULL, in_child);
    /* a damaged global heap makes libhdf5 loop; io/h5util.c gives its
     * reader this long (30 s by default: a fuzz run would crawl) */
    setenv("VITRUN_HDF5_STRING_TIMEOUT", "1", 0);
}

/* libhdf5 1.10.8 (Debian's, not instrumented) loses blocks of its own on
 * the error paths of damaged files (an object header that fails to decode
 * in H5C_protect, reached from H5Aexists or H5Lexists): not vitrun's leaks,
 * and not fixable here. Leaks of what vitrun allocates are still reported;
 * memory that libhdf5 hands to vitrun (none since strings are read in a
 * child) would not be. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5\n"; }

/* libhdf5 asks malloc for sizes it decoded from a damaged file (2^63 and
 * more) and handles a NULL; ASan's default is to abort there, a report
 * about an uninstrumented library that the release build survives (exit 2:
 * regressions/fuzz_input_h5/hdf5_malloc_2pow63.h5). vitrun's own
 * allocations check NULL too (vr_alloc), and one that did not would still
 * crash visibly. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

const char *vf_path(char *buf, size_t cap, const char *leaf)
{
    snprintf(buf, cap, "%s%s%s", g_dir, *leaf ? "/" : "", leaf);
    return buf;
}

void vf_write(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
    while (n) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "fuzz: write to %s failed: %s\n", path, strerror(errno));
            abort();
        }
        data += w;
        n -= (size_t)w;
    }
    close(fd);
}

void vf_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(msg, sizeof msg, "fuzz: invariant broken: ");
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", msg);
    /* also where sanitizer reports go: stderr may be closed (-close_fd_mask=2) */
    __sanitizer_report_error_summary(msg);
    abort();
}

void vf_image_header(const uint8_t *data, size_t n, size_t max_pixels, vr_preprocess *p,
                     vr_image_limits *lim)
{
    static const char *const presets[] = {"hf", "torchvision", "timm"};
    const size_t limits[] = {1u << 6, 1u << 10, 1u << 14, 1u << 16, max_pixels};
    /* timm's preset keeps the model's own mean and std */
    *p = (vr_preprocess){.mean = {0.5, 0.5, 0.5}, .std = {0.5, 0.5, 0.5}};
    size_t crop = (size_t)data[1] + 1;
    int kind = data[0] % 5;
    if (kind < 3) {
        if (vr_preprocess_preset(p, presets[kind], crop, crop) != VR_OK)
            vf_fail("preset %s refused crop %zu", presets[kind], crop);
    } else {
        vr_preprocess_preset(p, "hf", crop, crop);
        p->resize = kind == 3 ? VR_RESIZE_EXACT : VR_RESIZE_SHORTER;
        p->interp = data[0] & 8 ? VR_INTERP_BICUBIC : VR_INTERP_BILINEAR;
        p->resize_size = p->resize_w = crop + data[2];
    }
    *lim = (vr_image_limits){limits[data[3] % 5], (size_t)1 << 24, (data[3] >> 3) & 1};
    if ((data[3] & 16) && (data[3] & 32))
        lim->max_bytes = n / 2;
}
