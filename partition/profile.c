/* profile.c - node profiles as JSON (profile.h). */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;
    size_t off;   /* offset of the double (or int) in vr_profile */
    int is_int;
    int positive; /* must be > 0 (else >= 0) */
    int optional; /* 0 when absent (profiles written before it existed) */
} field;

#define F(k, m, i, pos) {k, offsetof(vr_profile, m), i, pos, 0}
static const field fields[] = {
    F("cores", cores, 1, 1),          F("mem_bytes", mem_bytes, 0, 1),
    F("gemm_fp32", gemm[0], 0, 1),    F("gemm_bf16", gemm[1], 0, 0),
    F("gemm_int8", gemm[2], 0, 0),    F("m_half", m_half, 0, 0),
    F("attn", attn, 0, 1),            F("elem_s", elem_s, 0, 0),
    F("act_s", act_s, 0, 0),          F("decode_s", decode_s, 0, 0),
    F("rank_bytes", rank_bytes, 0, 0), F("shm_alpha", shm.alpha, 0, 0),
    F("shm_beta", shm.beta, 0, 1),    F("net_alpha", net.alpha, 0, 0),
    F("net_beta", net.beta, 0, 1),
    {"tp_sync_s", offsetof(vr_profile, tp_sync_s), 0, 0, 1},
    {"full_load", offsetof(vr_profile, full_load), 0, 0, 1},
    {"shm_duplex_beta", offsetof(vr_profile, shm.duplex), 0, 0, 1},
    {"net_duplex_beta", offsetof(vr_profile, net.duplex), 0, 0, 1},
};
#undef F
#define NFIELDS (sizeof fields / sizeof fields[0])

typedef struct {
    const char *s;
    size_t n, i;
    const char *name;
} cursor;

static void skip_space(cursor *c)
{
    while (c->i < c->n && isspace((unsigned char)c->s[c->i]))
        c->i++;
}

static vr_status bad(const cursor *c, const char *expected)
{
    char found[24] = "the end of the file";
    if (c->i < c->n) {
        size_t k = 0;
        for (size_t j = c->i; j < c->n && k < 16; j++)
            found[k++] = isprint((unsigned char)c->s[j]) ? c->s[j] : '?';
        found[k] = '\0';
    }
    return vr_fail(VR_ERR_INPUT, "%s: byte %zu: expected %s, found '%s' (a node profile is one "
                   "JSON object of numbers, as vitrun --calibrate writes)", c->name, c->i,
                   expected, found);
}

/* A string without escapes other than \" and \\ into out (cap bytes). */
static vr_status string(cursor *c, char *out, size_t cap)
{
    size_t k = 0;
    if (c->i >= c->n || c->s[c->i] != '"')
        return bad(c, "a string");
    c->i++;
    while (c->i < c->n && c->s[c->i] != '"') {
        char ch = c->s[c->i];
        if (ch == '\\') {
            if (c->i + 1 >= c->n || (c->s[c->i + 1] != '"' && c->s[c->i + 1] != '\\'))
                return bad(c, "\\\" or \\\\ (no other escapes)");
            ch = c->s[++c->i];
        } else if ((unsigned char)ch < 0x20) {
            return bad(c, "a printable character in a string");
        }
        if (k + 1 >= cap)
            return bad(c, "a shorter string");
        out[k++] = ch;
        c->i++;
    }
    if (c->i >= c->n)
        return bad(c, "the string's closing quote");
    c->i++;
    out[k] = '\0';
    return VR_OK;
}

static vr_status number(cursor *c, double *v)
{
    char buf[64];
    size_t k = 0;
    while (c->i + k < c->n && k + 1 < sizeof buf && strchr("+-.0123456789eE", c->s[c->i + k]))
        k++;
    memcpy(buf, c->s + c->i, k);
    buf[k] = '\0';
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    if (!k || *end || errno || !isfinite(*v))
        return bad(c, "a finite number");
    c->i += k;
    return VR_OK;
}

vr_status vr_profile_parse(vr_profile *p, char *host, size_t host_cap, const char *text,
                           size_t len, const char *name)
{
    cursor c = {text, len, 0, name};
    int seen[NFIELDS] = {0}, format = 0;
    vr_status st;
    memset(p, 0, sizeof *p);
    if (host && host_cap)
        host[0] = '\0';
    skip_space(&c);
    if (c.i >= c.n || c.s[c.i] != '{')
        return bad(&c, "'{'");
    c.i++;
    skip_space(&c);
    if (c.i < c.n && c.s[c.i] == '}')
        c.i++;
    else
        for (;;) {
            char key[64], sval[256];
            skip_space(&c);
            if ((st = string(&c, key, sizeof key)))
                return st;
            skip_space(&c);
            if (c.i >= c.n || c.s[c.i] != ':')
                return bad(&c, "':'");
            c.i++;
            skip_space(&c);
            if (c.i < c.n && c.s[c.i] == '"') {
                if ((st = string(&c, sval, sizeof sval)))
                    return st;
                if (!strcmp(key, "format")) {
                    if (strcmp(sval, VR_PROFILE_FORMAT))
                        return vr_fail(VR_ERR_INPUT, "%s: format is '%s'; this vitrun reads "
                                       "'%s' (run vitrun --calibrate again)", name, sval,
                                       VR_PROFILE_FORMAT);
                    format = 1;
                } else if (!strcmp(key, "host") && host) {
                    snprintf(host, host_cap, "%s", sval);
                }
            } else {
                double v;
                if ((st = number(&c, &v)))
                    return st;
                for (size_t f = 0; f < NFIELDS; f++) {
                    if (strcmp(key, fields[f].key))
                        continue;
                    if (seen[f])
                        return vr_fail(VR_ERR_INPUT, "%s: '%s' appears twice", name, key);
                    if (v < 0 || (fields[f].positive && !(v > 0)) ||
                        (fields[f].is_int && (v != floor(v) || v > 1e6)))
                        return vr_fail(VR_ERR_INPUT, "%s: '%s' is %g; expected %s", name, key,
                                       v, fields[f].is_int ? "a whole number from 1 to 10^6"
                                          : fields[f].positive ? "a number above 0"
                                                               : "a number, 0 or more");
                    seen[f] = 1;
                    if (fields[f].is_int)
                        *(int *)((char *)p + fields[f].off) = (int)v;
                    else
                        *(double *)((char *)p + fields[f].off) = v;
                }
            }
            skip_space(&c);
            if (c.i < c.n && c.s[c.i] == ',') {
                c.i++;
                continue;
            }
            if (c.i < c.n && c.s[c.i] == '}') {
                c.i++;
                break;
            }
            return bad(&c, "',' or '}'");
        }
    skip_space(&c);
    if (c.i != c.n)
        return bad(&c, "nothing after the object");
    if (!format)
        return vr_fail(VR_ERR_INPUT, "%s: no \"format\": \"%s\"; is it a vitrun node profile "
                       "(vitrun --calibrate FILE writes one)?", name, VR_PROFILE_FORMAT);
    for (size_t f = 0; f < NFIELDS; f++)
        if (!seen[f] && !fields[f].optional)
            return vr_fail(VR_ERR_INPUT, "%s: '%s' is missing (vitrun --calibrate writes every "
                           "key)", name, fields[f].key);
    return VR_OK;
}

vr_status vr_profile_read(vr_profile *p, char *host, size_t host_cap, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vr_fail(VR_ERR_INPUT, "--profile %s: cannot open it (%s); write one with "
                       "vitrun --calibrate %s", path, strerror(errno), path);
    char *buf = malloc(VR_PROFILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return vr_fail(VR_ERR_NOMEM, "cannot allocate a profile buffer");
    }
    size_t n = fread(buf, 1, VR_PROFILE_MAX_BYTES + 1, f);
    int err = ferror(f);
    fclose(f);
    vr_status st;
    if (err)
        st = vr_fail(VR_ERR_INPUT, "--profile %s: read error", path);
    else if (n > VR_PROFILE_MAX_BYTES)
        st = vr_fail(VR_ERR_INPUT, "--profile %s: larger than %d bytes; not a node profile",
                     path, VR_PROFILE_MAX_BYTES);
    else
        st = vr_profile_parse(p, host, host_cap, buf, n, path);
    free(buf);
    return st;
}

void vr_profile_write(const vr_profile *p, const char *host, FILE *f)
{
    fprintf(f, "{\"format\": \"%s\", \"host\": \"", VR_PROFILE_FORMAT);
    for (const char *h = host ? host : ""; *h; h++)
        if (*h == '"' || *h == '\\')
            fprintf(f, "\\%c", *h);
        else if ((unsigned char)*h >= 0x20)
            fputc(*h, f);
    fprintf(f, "\"");
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *at = (const char *)p + fields[i].off;
        if (fields[i].is_int)
            fprintf(f, ",\n \"%s\": %d", fields[i].key, *(const int *)at);
        else
            fprintf(f, ",\n \"%s\": %.6g", fields[i].key, *(const double *)at);
    }
    fprintf(f, "}\n");
}

vr_profile vr_profile_builtin(void)
{
    /* vitrun --calibrate here, 2 December 2026: compute on one rank of 2
     * threads, shared memory from 2 ranks; the network is the default;
     * decoding (a 500 x 375 JPEG to 224 x 224 floats) measured at 1.52 ms */
    vr_profile p = {
        .cores = 2, .mem_bytes = 2.53e10, .gemm = {1.9e11, 3.7e11, 6.8e11}, .m_half = 7,
        .attn = 1.35e11, .elem_s = 4.0e-10, .act_s = 5.5e-10, .decode_s = 1.5e-3,
        .rank_bytes = 5.2e7, .shm = {3.8e-7, 1.16e10}, .net = {3e-5, 1.25e9},
        .tp_sync_s = 0};
    return p;
}
