/* test_rfc3339.c - the one RFC 3339 formatter and parser: exact text for
 * seconds and fractions, offsets, the range of four-digit years, and
 * refusals that name the problem, above all dates that do not exist. */
#include "ww_clock.h"
#include "ww_rfc3339.h"
#include "ww_test.h"

#include <stdint.h>
#include <string.h>

/* 2026-11-26T13:00:00Z */
#define T0 INT64_C(1795698000)

WW_TEST(formats_seconds_and_fractions_in_utc) {
    static const struct {
        int64_t seconds;
        int32_t nanos;
        int digits;
        const char *text;
    } rows[] = {
        {0, 0, 0, "1970-01-01T00:00:00Z"},
        {T0, 7000000, 3, "2026-11-26T13:00:00.007Z"},
        {T0, 7000000, 0, "2026-11-26T13:00:00Z"},
        {T0, 123456789, 9, "2026-11-26T13:00:00.123456789Z"},
        {T0, 123456789, 1, "2026-11-26T13:00:00.1Z"},
        /* truncated, never rounded into the next second */
        {T0, 999999999, 3, "2026-11-26T13:00:00.999Z"},
        {-1, 0, 0, "1969-12-31T23:59:59Z"},
        {951782400, 0, 0, "2000-02-29T00:00:00Z"},
        {WW_RFC3339_MIN_SECONDS, 0, 0, "0000-01-01T00:00:00Z"},
        {WW_RFC3339_MAX_SECONDS, 999999999, 3, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[WW_RFC3339_SIZE];
        size_t n = ww_rfc3339_format(rows[i].seconds, rows[i].nanos,
                                     rows[i].digits, buf, sizeof buf);
        WW_ASSERT_EQ_STR(buf, rows[i].text);
        WW_ASSERT_EQ_INT(n, strlen(rows[i].text));
    }
    char buf[WW_RFC3339_SIZE];
    WW_ASSERT_EQ_INT(ww_rfc3339_format(T0, 999999999, 9, buf, sizeof buf),
                     WW_RFC3339_SIZE - 1);
}

/* Out of range or too small a buffer: nothing but "" is written. */
WW_TEST(format_refuses_what_it_cannot_write) {
    char buf[WW_RFC3339_SIZE];
    const struct {
        int64_t seconds;
        int32_t nanos;
        int digits;
    } bad[] = {
        {WW_RFC3339_MAX_SECONDS + 1, 0, 0}, /* year 10000 */
        {WW_RFC3339_MIN_SECONDS - 1, 0, 0}, /* year -1 */
        {T0, -1, 3},
        {T0, 1000000000, 3},
        {T0, 0, -1},
        {T0, 0, 10},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(buf, '#', sizeof buf);
        WW_ASSERT_EQ_INT(ww_rfc3339_format(bad[i].seconds, bad[i].nanos,
                                           bad[i].digits, buf, sizeof buf),
                         0);
        WW_ASSERT_EQ_STR(buf, "");
    }
    /* 24 bytes hold "2026-11-26T13:00:00.007Z" but not its NUL. */
    char small[24];
    memset(small, '#', sizeof small);
    WW_ASSERT_EQ_INT(ww_rfc3339_format_ms(T0 * 1000 + 7, small, sizeof small),
                     0);
    WW_ASSERT_EQ_STR(small, "");
    char exact[25];
    WW_ASSERT_EQ_INT(ww_rfc3339_format_ms(T0 * 1000 + 7, exact, sizeof exact),
                     24);
    WW_ASSERT_EQ_INT(ww_rfc3339_format(T0, 0, 0, NULL, 0), 0);
}

/* Milliseconds before 1970 split into the second before and a positive
 * fraction; every text parses back to the same instant. */
WW_TEST(milliseconds_round_trip_across_seconds_days_and_1970) {
    const int64_t at[] = {T0 * 1000 + 7,
                          T0 * 1000 + 999,
                          T0 * 1000 + 1000,
                          1795784399999,
                          1795784400000,
                          0,
                          -1,
                          -1000,
                          -1001,
                          951782400123};
    const char *want[] = {
        "2026-11-26T13:00:00.007Z", "2026-11-26T13:00:00.999Z",
        "2026-11-26T13:00:01.000Z", "2026-11-27T12:59:59.999Z",
        "2026-11-27T13:00:00.000Z", "1970-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.000Z",
        "1969-12-31T23:59:58.999Z", "2000-02-29T00:00:00.123Z"};
    ww_err_t err = {0};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char buf[WW_RFC3339_SIZE];
        ww_rfc3339_format_ms(at[i], buf, sizeof buf);
        WW_ASSERT_EQ_STR(buf, want[i]);
        int64_t back = 0;
        WW_ASSERT_EQ_INT(ww_rfc3339_parse_ms(buf, &back, &err), WW_OK);
        WW_ASSERT_MSG(back == at[i], "%s parsed back as %lld", buf,
                      (long long)back);
    }
}

WW_TEST(parses_offsets_fractions_and_either_case) {
    static const struct {
        const char *text;
        int64_t seconds;
        int32_t nanos;
    } rows[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-11-26T13:00:00.5Z", T0, 500000000},
        {"2026-11-26T15:00:00.123456+02:00", T0, 123456000},
        {"2026-11-26T12:30:00-00:30", T0, 0},
        {"2026-11-26t13:00:00z", T0, 0},
        {"2026-11-26T13:00:00+00:00", T0, 0},
        /* digits beyond nanoseconds are dropped, not rounded */
        {"2026-11-26T13:00:00.1234567899Z", T0, 123456789},
        {"2000-02-29T00:00:00Z", 951782400, 0},
        {"2024-02-29T23:59:59Z", 1709251199, 0},
        {"2100-03-01T00:00:00Z", 4107542400, 0},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"0000-01-01T00:00:00Z", WW_RFC3339_MIN_SECONDS, 0},
        {"9999-12-31T23:59:59Z", WW_RFC3339_MAX_SECONDS, 0},
        {"2026-01-01T00:00:00+23:59", 1767225600 - 86340, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t s = -7;
        int32_t ns = -7;
        ww_err_t err = {0};
        WW_ASSERT_MSG(ww_rfc3339_parse(rows[i].text, &s, &ns, &err) == WW_OK,
                      "%s: %s", rows[i].text, err.msg);
        WW_ASSERT_MSG(s == rows[i].seconds && ns == rows[i].nanos,
                      "%s: got %lld + %d ns", rows[i].text, (long long)s,
                      (int)ns);
    }
    int64_t ms = 0;
    WW_ASSERT_EQ_INT(ww_rfc3339_parse_ms("2026-11-26T13:00:00.5Z", &ms, NULL),
                     WW_OK);
    WW_ASSERT_EQ_INT(ms, T0 * 1000 + 500);
}

/* The refusal the parser exists for: a date that is not on the calendar
 * never becomes an instant (timegm would quietly roll it into the next
 * month). */
WW_TEST(refuses_dates_that_do_not_exist) {
    static const struct {
        const char *text, *why;
    } rows[] = {
        {"2026-02-31T12:00:00Z", "day 31 is not in February 2026 (01..28)"},
        {"2026-02-30T12:00:00Z", "day 30 is not in February 2026 (01..28)"},
        {"2023-02-29T12:00:00Z", "day 29 is not in February 2023 (01..28)"},
        {"1900-02-29T12:00:00Z", "day 29 is not in February 1900 (01..28)"},
        {"2100-02-29T12:00:00Z", "day 29 is not in February 2100 (01..28)"},
        {"2024-02-30T12:00:00Z", "day 30 is not in February 2024 (01..29)"},
        {"2026-04-31T12:00:00Z", "day 31 is not in April 2026 (01..30)"},
        {"2026-06-31T12:00:00Z", "day 31 is not in June 2026 (01..30)"},
        {"2026-09-31T12:00:00Z", "day 31 is not in September 2026"},
        {"2026-11-31T12:00:00Z", "day 31 is not in November 2026"},
        {"2026-01-32T12:00:00Z", "day 32 is not in January 2026 (01..31)"},
        {"2026-01-00T12:00:00Z", "day 00 is not in January 2026"},
        {"2026-00-10T12:00:00Z", "month 00 is not 01..12"},
        {"2026-13-10T12:00:00Z", "month 13 is not 01..12"},
        {"2026-11-26T24:00:00Z", "hour 24 is not 00..23"},
        {"2026-11-26T13:60:00Z", "minute 60 is not 00..59"},
        {"2026-12-31T23:59:60Z", "leap second"},
        {"2026-11-26T13:00:99Z", "second 99 is not 00..59"},
        {"2026-11-26T13:00:00+24:00", "UTC offset 24:00 is beyond 23:59"},
        {"2026-11-26T13:00:00-05:60", "UTC offset 05:60 is beyond 23:59"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t s = 42;
        int32_t ns = 43;
        ww_err_t err = {0};
        WW_ASSERT_MSG(ww_rfc3339_parse(rows[i].text, &s, &ns, &err) ==
                          WW_ERR_INVALID_ARGUMENT,
                      "accepted %s", rows[i].text);
        WW_ASSERT_CONTAINS(err.msg, rows[i].text);
        WW_ASSERT_CONTAINS(err.msg, rows[i].why);
        WW_ASSERT_MSG(s == 42 && ns == 43, "%s: outputs changed on failure",
                      rows[i].text);
    }
    /* The last day of every month of a leap and a common year is fine. */
    for (int year = 2023; year <= 2024; year++)
        for (int month = 1; month <= 12; month++) {
            char text[32];
            snprintf(text, sizeof text, "%04d-%02d-%02dT00:00:00Z", year, month,
                     ww_clock_days_in_month(year, month));
            ww_err_t err = {0};
            WW_ASSERT_MSG(ww_rfc3339_parse(text, NULL, NULL, &err) == WW_OK,
                          "%s: %s", text, err.msg);
        }
}

WW_TEST(refuses_malformed_text_saying_what_is_wrong) {
    static const struct {
        const char *text, *why;
    } rows[] = {
        {"", "not RFC 3339"},
        {"yesterday", "not RFC 3339"},
        {"2026-11-26", "not RFC 3339"},
        {"26-11-26T13:00:00Z", "not RFC 3339"},
        {"2026-11-26 13:00:00Z", "not RFC 3339"},
        {"2026-11-26T13:00Z", "not RFC 3339"},
        {"2026-1-26T13:00:00Z", "not RFC 3339"},
        {"2026-11-26T13:00:00", "no time zone"},
        {"2026-11-26T13:00:00 Z", "no time zone"},
        {"2026-11-26T13:00:00.Z", "no digits after the '.'"},
        {"2026-11-26T13:00:00+0100", "UTC offset is not +hh:mm or -hh:mm"},
        {"2026-11-26T13:00:00+01", "UTC offset is not +hh:mm or -hh:mm"},
        {"2026-11-26T13:00:00Zjunk", "trailing characters"},
        {"2026-11-26T13:00:00Z ", "trailing characters"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ww_err_t err = {0};
        int64_t ms = 42;
        WW_ASSERT_MSG(ww_rfc3339_parse_ms(rows[i].text, &ms, &err) ==
                          WW_ERR_INVALID_ARGUMENT,
                      "accepted \"%s\"", rows[i].text);
        WW_ASSERT_CONTAINS(err.msg, rows[i].why);
        WW_ASSERT_EQ_INT(ms, 42);
    }
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_rfc3339_parse(NULL, NULL, NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    /* A long text is quoted cut, never overflowing the message. */
    char longer[300];
    memset(longer, '9', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    WW_ASSERT_EQ_INT(ww_rfc3339_parse(longer, NULL, NULL, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT(strlen(err.msg) < 120);
}

/* Every day of four centuries (leap rules included) and every second of
 * one day survive text and back. */
WW_TEST(every_day_of_four_centuries_round_trips) {
    int64_t start = ww_clock_days_from_civil(1900, 1, 1) * 86400;
    char buf[WW_RFC3339_SIZE];
    ww_err_t err = {0};
    for (int64_t day = 0; day < 146097; day++) {
        int64_t s = start + day * 86400 + 45296; /* 12:34:56 */
        WW_ASSERT(ww_rfc3339_format(s, 0, 0, buf, sizeof buf) > 0);
        int64_t back = 0;
        WW_ASSERT_MSG(ww_rfc3339_parse(buf, &back, NULL, &err) == WW_OK,
                      "%s: %s", buf, err.msg);
        WW_ASSERT_MSG(back == s, "%s parsed back as %lld", buf,
                      (long long)back);
    }
    for (int64_t s = T0; s < T0 + 86400; s++) {
        ww_rfc3339_format(s, 0, 0, buf, sizeof buf);
        int64_t back = 0;
        WW_ASSERT_EQ_INT(ww_rfc3339_parse(buf, &back, NULL, &err), WW_OK);
        WW_ASSERT_EQ_INT(back, s);
    }
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(formats_seconds_and_fractions_in_utc),
            WW_CASE(format_refuses_what_it_cannot_write),
            WW_CASE(milliseconds_round_trip_across_seconds_days_and_1970),
            WW_CASE(parses_offsets_fractions_and_either_case),
            WW_CASE(refuses_dates_that_do_not_exist),
            WW_CASE(refuses_malformed_text_saying_what_is_wrong),
            WW_CASE(every_day_of_four_centuries_round_trips),
            {0}});
}
