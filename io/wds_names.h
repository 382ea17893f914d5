/* wds_names.h - webdataset's rules for tar member names and labels
 * (webdataset/tariterators.py), as pure functions over bytes: which members
 * belong to samples, the key and extension of a member, a .cls label. */
#ifndef VR_WDS_NAMES_H
#define VR_WDS_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* base_plus_ext: 1 with *key_len when path p (n bytes) has a key, the
 * member's extension then starting at p + *key_len + 1; 0 when it has none
 * (the member is skipped). */
int vr_wds_split(const char *p, size_t n, size_t *key_len);

/* tar_file_iterator's metadata: 1 for "__x__" and "__x__/..." names. */
int vr_wds_is_meta(const char *p, size_t n);

/* A .cls member's bytes: a decimal integer with an optional sign and white
 * space around it, fitting int64. 0 when it is not one. */
int vr_wds_parse_cls(const char *b, size_t n, int64_t *v);

/* ASCII lower case, in place (webdataset lowercases extensions). */
void vr_wds_lower(char *s);

#endif
