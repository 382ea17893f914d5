/* truth.c - streams "LABEL PATH" lines in output order. */
#include "truth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

vr_status vr_truth_open(vr_truth *t, const char *path, size_t classes)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->classes = classes;
    if (!(t->fp = fopen(path, "r")))
        return vr_fail(VR_ERR_INPUT, "%s: cannot open the labels file: %s", path,
                       strerror(errno));
    return VR_OK;
}

vr_status vr_truth_next(vr_truth *t, const char *name, int *label)
{
    ssize_t r;
    do {
        r = getline(&t->line, &t->cap, t->fp);
        t->lineno++;
    } while (r > 0 && (t->line[0] == '\n' || (t->line[0] == '\r' && t->line[1] == '\n')));
    if (r <= 0)
        return vr_fail(VR_ERR_INPUT, "%s: ends at line %zu, before the row '%s'; it needs a "
                       "line per input", t->path, t->lineno - 1, name);
    size_t l = (size_t)r;
    while (l && (t->line[l - 1] == '\n' || t->line[l - 1] == '\r'))
        t->line[--l] = '\0';
    char *end;
    errno = 0;
    long v = strtol(t->line, &end, 10);
    if (end == t->line || errno || (*end != ' ' && *end != '\t') || v < 0 ||
        (size_t)v >= t->classes)
        return vr_fail(VR_ERR_INPUT, "%s:%zu: expected 'LABEL PATH' with LABEL a class index "
                       "from 0 to %zu, found '%.80s'", t->path, t->lineno, t->classes - 1,
                       t->line);
    if (strcmp(end + 1, name))
        return vr_fail(VR_ERR_INPUT, "%s:%zu: names '%.200s' but this row is '%.200s'; list "
                       "the labels in the input's order", t->path, t->lineno, end + 1, name);
    *label = (int)v;
    return VR_OK;
}

void vr_truth_close(vr_truth *t)
{
    if (t->fp)
        fclose(t->fp);
    free(t->line);
    memset(t, 0, sizeof *t);
}
