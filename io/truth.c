/* truth.c - streams "LABEL PATH" lines in output order. */
#include "truth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"

/* The next non-blank line of fp into *line without its line end; its length,
 * -1 at the end, or -2 when longer than VR_LINE_MAX (memory stays bounded
 * whatever the file: --labels /dev/zero). *lineno counts every line read. */
static ssize_t next_line(FILE *fp, char **line, size_t *cap, size_t *lineno)
{
    for (;;) {
        ssize_t r = vr_getline_max(line, cap, fp, VR_LINE_MAX);
        if (r < -1) {
            ++*lineno;
            return -2;
        }
        if (r <= 0)
            return -1;
        ++*lineno;
        size_t l = (size_t)r;
        while (l && ((*line)[l - 1] == '\n' || (*line)[l - 1] == '\r'))
            (*line)[--l] = '\0';
        if (l)
            return (ssize_t)l;
    }
}

/* "LABEL PATH": the label, and the path in *name (inside t->line). */
static vr_status parse(const vr_truth *t, int *label, const char **name)
{
    char *end;
    errno = 0;
    long v = strtol(t->line, &end, 10);
    if (end == t->line || errno || (*end != ' ' && *end != '\t') || v < 0 ||
        (size_t)v >= t->classes)
        return vr_fail(VR_ERR_INPUT, "%s:%zu: expected 'LABEL PATH' with LABEL a class index "
                       "from 0 to %zu, found '%.80s'", t->path, t->lineno, t->classes - 1,
                       t->line);
    *label = (int)v;
    *name = end + 1;
    return VR_OK;
}

static vr_status too_long(const vr_truth *t)
{
    return vr_fail(VR_ERR_INPUT, "%s:%zu: the line is longer than %d bytes (or memory ran "
                   "out); expected 'LABEL PATH' lines", t->path, t->lineno, VR_LINE_MAX);
}

static vr_status misnamed(const vr_truth *t, const char *label_name, const char *row)
{
    return vr_fail(VR_ERR_INPUT, "%s:%zu: names '%.200s' but this row is '%.200s'; list the "
                   "labels in the input's order", t->path, t->lineno, label_name, row);
}

/* The whole file before any scoring: its format, its labels, a line per
 * input and, when the rows' names are known (`listing`), their order. The
 * names come from the listing stream the readers use, so they are the rows'. */
static vr_status check_all(vr_truth *t, size_t n, const char *listing,
                           vr_truth_names_fn names, void *ctx)
{
    vr_listing ls;
    char *row = NULL, *full = NULL;
    size_t lines = 0;
    vr_status st = VR_OK;
    if (listing || names) {
        if (!(row = malloc(VR_PATH_MAX)) || !(full = malloc(2 * VR_PATH_MAX))) {
            free(row);
            return vr_fail(VR_ERR_NOMEM, "out of memory checking %s", t->path);
        }
        if (listing && (st = vr_listing_open(&ls, listing, ""))) {
            free(row);
            free(full);
            return st;
        }
    }
    ssize_t r;
    while ((r = next_line(t->fp, &t->line, &t->cap, &t->lineno)) >= 0) {
        int label;
        const char *name;
        if ((st = parse(t, &label, &name)))
            break;
        if (++lines > n) {
            st = vr_fail(VR_ERR_INPUT, "%s:%zu: more lines than the %zu inputs; it needs a "
                         "line per input, in the input's order", t->path, t->lineno, n);
            break;
        }
        if (listing && ((st = vr_listing_get(&ls, lines - 1, row, full)) ||
                        (strcmp(name, row) && (st = misnamed(t, name, row)))))
            break;
        if (names) {
            names(ctx, lines - 1, row, VR_PATH_MAX);
            if (strcmp(name, row) && (st = misnamed(t, name, row)))
                break;
        }
    }
    if (!st && r == -2)
        st = too_long(t);
    if (!st && lines < n)
        st = vr_fail(VR_ERR_INPUT, "%s: ends at line %zu with %zu labels for %zu inputs; it "
                     "needs a line per input", t->path, t->lineno, lines, n);
    if (listing)
        vr_listing_close(&ls);
    free(row);
    free(full);
    if (!st && fseek(t->fp, 0, SEEK_SET) != 0)
        st = vr_fail(VR_ERR_INPUT, "%s: cannot read it again: %s", t->path, strerror(errno));
    t->lineno = 0;
    return st;
}

vr_status vr_truth_open(vr_truth *t, const char *path, size_t classes, size_t n,
                        const char *listing)
{
    return vr_truth_open_named(t, path, classes, n, listing, NULL, NULL);
}

vr_status vr_truth_open_named(vr_truth *t, const char *path, size_t classes, size_t n,
                              const char *listing, vr_truth_names_fn names, void *ctx)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->classes = classes;
    /* not a folder, nor a FIFO that would block the open */
    vr_status st = vr_open_regular(path, "a --labels file of 'CLASS_INDEX PATH' lines, one "
                                   "per input", &t->fp);
    if (st)
        return st;
    return check_all(t, n, listing, names, ctx);
}

vr_status vr_truth_next(vr_truth *t, const char *name, int *label)
{
    ssize_t r = next_line(t->fp, &t->line, &t->cap, &t->lineno);
    if (r == -2)
        return too_long(t);
    if (r < 0)
        return vr_fail(VR_ERR_INPUT, "%s: ends at line %zu, before the row '%s'; it needs a "
                       "line per input (did it change during the run?)", t->path, t->lineno,
                       name);
    const char *lname;
    vr_status st = parse(t, label, &lname);
    if (!st && strcmp(lname, name))
        st = misnamed(t, lname, name);
    return st;
}

void vr_truth_close(vr_truth *t)
{
    if (t->fp)
        fclose(t->fp);
    free(t->line);
    memset(t, 0, sizeof *t);
}
