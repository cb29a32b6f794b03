/* ww_trainer_fixtures.c - the demo hours: which working hours of a day the
 * fixtures make available, and filling a state with them. */
#include "ww_trainer_domain.h"

bool ww_trainer_fixture_hour_available(int day_index, int hour_of_day) {
    /* Two of every three slots, shifting by day so the demo's weeks differ. */
    return (day_index * 5 + hour_of_day) % 3 != 0;
}

ww_code_t ww_trainer_fixtures_fill(ww_trainer_state_t *s,
                                   const ww_time_t *first_day, int days,
                                   ww_err_t *err) {
    ww_code_t rc = ww_time_validate(first_day, err);
    if (rc != WW_OK) return rc;
    int64_t day0 = ww_time_truncate_day(first_day->seconds);
    if (days < 1 || days > 3660 ||
        day0 > WW_TIME_MAX_SECONDS - (int64_t)days * WW_TIME_DAY_SECONDS)
        return ww_err_set(err, WW_ERR_INVALID_ARGUMENT,
                          "fixtures need 1..3660 days within the valid range");
    for (int day = 0; day < days; day++) {
        for (int h = WW_TIME_FIRST_WORK_HOUR; h <= WW_TIME_LAST_WORK_HOUR;
             h++) {
            if (!ww_trainer_fixture_hour_available(day, h)) continue;
            ww_time_t t = {
                day0 + day * WW_TIME_DAY_SECONDS + h * WW_TIME_HOUR_SECONDS, 0};
            ww_err_t e;
            rc = ww_trainer_make_hour_available(s, &t, &e);
            if (rc == WW_ERR_FAILED_PRECONDITION) continue; /* booked */
            if (rc != WW_OK) {
                if (err) *err = e;
                return rc;
            }
        }
    }
    return WW_OK;
}
