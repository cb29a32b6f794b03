/* test_canon.c - the canonical byte reader: what the writer writes reads
 * back, and every malformed input is refused with the field and the byte
 * offset named, without reading past the buffer. */
#include "ww_canon.h"
#include "ww_test.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *b;
    size_t n;
} buf_t;

static buf_t finish(ww_canon_t *c) {
    buf_t x = {0};
    WW_ASSERT_EQ_INT(ww_canon_finish(c, &x.b, &x.n, NULL), WW_OK);
    return x;
}

/* A heap copy of exactly `n` bytes, so ASan sees any read past them. */
static uint8_t *exact(const void *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    WW_ASSERT(b);
    if (n) memcpy(b, p, n);
    return b;
}

WW_TEST(reads_back_what_the_writer_wrote) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_bytes(&c, "ABCD", 4);
    ww_canon_u32(&c, 7);
    ww_canon_u8(&c, 0xfe);
    ww_canon_u32(&c, 0x01020304);
    ww_canon_u64(&c, UINT64_C(0x0102030405060708));
    ww_canon_i64(&c, -2);
    ww_canon_u8(&c, 1);
    ww_canon_str(&c, "héllo");
    ww_canon_str(&c, "");
    ww_canon_u64(&c, 3);
    ww_canon_bytes(&c, "xyz", 3);
    ww_canon_u64(&c, 0);
    buf_t x = finish(&c);
    /* big-endian on the wire */
    WW_ASSERT(memcmp(x.b + 9, "\x01\x02\x03\x04", 4) == 0);

    ww_canon_reader_t r;
    ww_canon_reader_init(&r, x.b, x.n);
    ww_canon_read_header(&r, "ABCD", 7);
    WW_ASSERT_EQ_INT(ww_canon_read_u8(&r, "a"), 0xfe);
    WW_ASSERT_EQ_INT(ww_canon_read_u32(&r, "b"), 0x01020304);
    WW_ASSERT(ww_canon_read_u64(&r, "c") == UINT64_C(0x0102030405060708));
    WW_ASSERT_EQ_INT(ww_canon_read_i64(&r, "d"), -2);
    WW_ASSERT(ww_canon_read_bool(&r, "e"));
    char s[16];
    WW_ASSERT_EQ_INT(ww_canon_read_str(&r, "f", s, 15), strlen("héllo"));
    WW_ASSERT_EQ_STR(s, "héllo");
    WW_ASSERT_EQ_INT(ww_canon_read_str(&r, "g", s, 0), 0);
    WW_ASSERT_EQ_STR(s, "");
    size_t n = 0;
    const uint8_t *blob = ww_canon_read_blob(&r, "h", &n);
    WW_ASSERT(blob && n == 3 && memcmp(blob, "xyz", 3) == 0);
    WW_ASSERT_EQ_INT(ww_canon_read_count(&r, "i", 0), 0);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_OK);
    WW_ASSERT_EQ_INT(ww_canon_reader_left(&r), 0);
    free(x.b);
}

WW_TEST(truncation_names_the_field_and_the_offset) {
    static const uint8_t bytes[] = {0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3};
    for (size_t cut = 0; cut < sizeof bytes; cut++) {
        uint8_t *b = exact(bytes, cut);
        ww_canon_reader_t r;
        ww_canon_reader_init(&r, b, cut);
        size_t n;
        const uint8_t *p = ww_canon_read_blob(&r, "payload", &n);
        ww_err_t err;
        WW_ASSERT(!p);
        WW_ASSERT_EQ_INT(n, 0);
        WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err),
                         WW_ERR_INVALID_ARGUMENT);
        WW_ASSERT_CONTAINS(err.msg, "payload at byte offset 0: ");
        WW_ASSERT_CONTAINS(err.msg, cut < 8 ? "truncated" : "runs past");
        free(b);
    }
    /* a u32 cut after 3 bytes of 5 */
    uint8_t *b = exact("\x00\x00\x00\x01\x02", 5);
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, b, 5);
    WW_ASSERT_EQ_INT(ww_canon_read_u8(&r, "first"), 0);
    WW_ASSERT_EQ_INT(ww_canon_read_u8(&r, "second"), 0);
    WW_ASSERT_EQ_INT(ww_canon_read_u32(&r, "number"), 0);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_canon_reader_status(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "number at byte offset 2: truncated: 4 bytes "
                              "needed, 3 left");
    free(b);
}

WW_TEST(the_first_failure_stays_and_later_reads_are_zero) {
    uint8_t *b = exact("\x02\x00\x00\x00\x09\x00\x00\x00\x01", 9);
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, b, 9);
    WW_ASSERT(!ww_canon_read_bool(&r, "flag"));
    WW_ASSERT(!ww_canon_reader_ok(&r));
    /* nothing is consumed or reported after the first failure */
    WW_ASSERT_EQ_INT(ww_canon_read_u32(&r, "later"), 0);
    char s[4] = "abc";
    WW_ASSERT_EQ_INT(ww_canon_read_str(&r, "name", s, 3), 0);
    WW_ASSERT_EQ_STR(s, "");
    uint8_t d[3] = {7, 7, 7};
    ww_canon_read_bytes(&r, "digest", d, 3);
    WW_ASSERT(d[0] == 0 && d[1] == 0 && d[2] == 0);
    ww_canon_reader_fail(&r, 5, "other", "never shown");
    ww_canon_reader_oom(&r);
    WW_ASSERT_EQ_INT(ww_canon_reader_pos(&r), 1);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "flag at byte offset 0: 2 is not a boolean (0 or 1)");
    free(b);

    /* out of memory is its own code */
    ww_canon_reader_init(&r, NULL, 0);
    ww_canon_reader_oom(&r);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err),
                     WW_ERR_RESOURCE_EXHAUSTED);
    WW_ASSERT_EQ_STR(err.msg, "out of memory");
}

static ww_code_t read_str(const void *bytes, size_t n, size_t max, char *dst,
                          ww_err_t *err) {
    uint8_t *b = exact(bytes, n);
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, b, n);
    ww_canon_read_u8(&r, "pad");
    ww_canon_read_str(&r, "user_id", dst, max);
    ww_code_t rc = ww_canon_reader_finish(&r, err);
    free(b);
    return rc;
}

WW_TEST(strings_have_a_limit_and_no_nul_bytes) {
    char s[8];
    ww_err_t err;
    WW_ASSERT_EQ_INT(read_str("\x00\x00\x00\x00\x04"
                              "abcd",
                              9, 4, s, &err),
                     WW_OK);
    WW_ASSERT_EQ_STR(s, "abcd");
    WW_ASSERT_EQ_INT(read_str("\x00\x00\x00\x00\x05"
                              "abcde",
                              10, 4, s, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "user_id at byte offset 1: length 5 is over the limit 4");
    WW_ASSERT_EQ_STR(s, "");
    WW_ASSERT_EQ_INT(read_str("\x00\x00\x00\x00\x04"
                              "ab\0d",
                              9, 4, s, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(
        err.msg, "user_id at byte offset 1: has a NUL byte at byte offset 7");
    /* a huge length is refused before anything is read or allocated */
    WW_ASSERT_EQ_INT(read_str("\x00\xff\xff\xff\xff", 5, 4, s, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "length 4294967295 is over the limit 4");
    WW_ASSERT_EQ_INT(read_str("\x00\x00\x00\x00\x04"
                              "ab",
                              7, 4, s, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id at byte offset 5: truncated: 4 bytes "
                              "needed, 2 left");
}

WW_TEST(counts_must_fit_in_the_bytes_left) {
    ww_canon_t c;
    ww_canon_init(&c);
    ww_canon_u64(&c, UINT64_MAX);
    ww_canon_u64(&c, 0);
    buf_t x = finish(&c);
    ww_canon_reader_t r;
    ww_canon_reader_init(&r, x.b, x.n);
    WW_ASSERT_EQ_INT(ww_canon_read_count(&r, "users", 12), 0);
    ww_err_t err;
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "users at byte offset 0: 18446744073709551615 "
                              "entries of at least 12 bytes do not fit in "
                              "the 8 bytes left");
    /* exactly what is left fits */
    ww_canon_reader_init(&r, x.b + 8, 8);
    WW_ASSERT_EQ_INT(ww_canon_read_count(&r, "none", 12), 0);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_OK);
    ww_canon_init(&c);
    ww_canon_u64(&c, 2);
    ww_canon_bytes(&c, "abcdef", 6);
    buf_t y = finish(&c);
    ww_canon_reader_init(&r, y.b, y.n);
    WW_ASSERT_EQ_INT(ww_canon_read_count(&r, "pairs", 3), 2);
    ww_canon_reader_init(&r, y.b, y.n);
    WW_ASSERT_EQ_INT(ww_canon_read_count(&r, "triples", 4), 0);
    WW_ASSERT(!ww_canon_reader_ok(&r));
    free(x.b);
    free(y.b);
}

WW_TEST(header_and_trailing_bytes_are_checked) {
    ww_canon_reader_t r;
    ww_err_t err;
    ww_canon_reader_init(&r, "WWXX\x00\x00\x00\x01", 8);
    ww_canon_read_header(&r, "WWUS", 1);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "magic at byte offset 0: \"WWXX\" is not \"WWUS\"");
    ww_canon_reader_init(&r, "\x01WWUS", 5);
    ww_canon_read_header(&r, "WWUS", 1);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "magic at byte offset 0: \"?WWU\" is not "
                              "\"WWUS\"");
    ww_canon_reader_init(&r, "WWUS\x00\x00\x00\x02", 8);
    ww_canon_read_header(&r, "WWUS", 1);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "version at byte offset 4: 2 is not supported (only 1)");
    ww_canon_reader_init(&r, "WWUS\x00\x00\x00\x01zz", 10);
    ww_canon_read_header(&r, "WWUS", 1);
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "trailing bytes at byte offset 8: 2 bytes after the end");
    /* a failure reported by the parser itself */
    ww_canon_reader_init(&r, "x", 1);
    ww_canon_read_u8(&r, "x");
    ww_canon_reader_fail(&r, 0, "user_id", "\"%s\" repeats", "anna");
    WW_ASSERT_EQ_INT(ww_canon_reader_finish(&r, &err), WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg, "user_id at byte offset 0: \"anna\" repeats");
    /* the final canonical comparison names the first differing byte */
    WW_ASSERT_EQ_INT(ww_canon_check_same("state", (const uint8_t *)"abc", 3,
                                         (const uint8_t *)"abc", 3, &err),
                     WW_OK);
    WW_ASSERT_EQ_INT(ww_canon_check_same("state", (const uint8_t *)"abc", 3,
                                         (const uint8_t *)"abd", 3, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_EQ_STR(err.msg,
                     "state is not in canonical form: byte offset 2 differs");
    WW_ASSERT_EQ_INT(ww_canon_check_same("state", (const uint8_t *)"abc", 3,
                                         (const uint8_t *)"ab", 2, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "byte offset 2 differs");
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (const ww_test_case_t[]){
            WW_CASE(reads_back_what_the_writer_wrote),
            WW_CASE(truncation_names_the_field_and_the_offset),
            WW_CASE(the_first_failure_stays_and_later_reads_are_zero),
            WW_CASE(strings_have_a_limit_and_no_nul_bytes),
            WW_CASE(counts_must_fit_in_the_bytes_left),
            WW_CASE(header_and_trailing_bytes_are_checked),
            {0}});
}
