/* The role table itself: a row for every method of every service the
 * binaries serve and none for anything else, a start refused for a service
 * with a method outside it, and docs/security.md showing the same table. */
#include "admin.pb-c.h"
#include "health.pb-c.h"
#include "trainer.pb-c.h"
#include "trainings.pb-c.h"
#include "users.pb-c.h"
#include "ww_host_authz.h"
#include "ww_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ProtobufCServiceDescriptor *const served[] = {
    &trainer__trainer_service__descriptor,
    &trainings__trainings_service__descriptor,
    &users__users_service__descriptor,
    &wildworkouts__admin__v1__admin_service__descriptor,
};
#define N_SERVED (sizeof served / sizeof *served)

WW_TEST(every_served_method_has_a_row_and_every_row_a_method) {
    size_t methods = 0;
    for (size_t i = 0; i < N_SERVED; i++) {
        ProtobufCService svc = {.descriptor = served[i]};
        ww_err_t err = {0};
        WW_ASSERT_MSG(ww_host_authz_check_service(&svc, &err) == WW_OK, "%s",
                      err.msg);
        methods += served[i]->n_methods;
    }
    size_t n;
    const ww_host_authz_row_t *rows = ww_host_authz_table(&n);
    WW_ASSERT_EQ_INT(n, methods); /* so no row names a method nobody serves */
    for (size_t r = 0; r < n; r++)
        WW_ASSERT_MSG(ww_host_authz_row(rows[r].method) == &rows[r],
                      "%s listed twice", rows[r].method);
}

WW_TEST(a_method_without_a_row_stops_the_start) {
    ProtobufCService health = {.descriptor =
                                   &grpc__health__v1__health__descriptor};
    ww_err_t err = {0};
    WW_ASSERT_EQ_INT(ww_host_authz_check_service(&health, &err),
                     WW_ERR_INVALID_ARGUMENT);
    WW_ASSERT_CONTAINS(err.msg, "/grpc.health.v1.Health/Check");
    WW_ASSERT_CONTAINS(err.msg, "role table");
}

WW_TEST(every_role_but_none_has_its_rules) {
    const ww_host_authz_row_t *r =
        ww_host_authz_row("/users.UsersService/GetTrainingBalance");
    WW_ASSERT(r);
    WW_ASSERT_EQ_INT(ww_host_authz_rule(r, WW_AUTH_ROLE_SERVICE),
                     WW_HOST_AUTHZ_ANY);
    WW_ASSERT_EQ_INT(ww_host_authz_rule(r, WW_AUTH_ROLE_USER),
                     WW_HOST_AUTHZ_OWN_FIELD);
    WW_ASSERT_EQ_INT(ww_host_authz_rule(r, WW_AUTH_ROLE_NONE),
                     WW_HOST_AUTHZ_NO);
    WW_ASSERT_EQ_STR(ww_host_authz_cell(r, r->user), "own `user_id`");
    WW_ASSERT(ww_host_authz_row("/users.UsersService/Nope") == NULL);
}

/* docs/security.md writes each row as | `method` | service | trainer | user |
 * and holds no other row of that shape. */
WW_TEST(docs_show_the_same_table) {
    FILE *f = fopen(WW_SOURCE_DIR "/docs/security.md", "r");
    WW_ASSERT_MSG(f, "cannot open docs/security.md");
    static char doc[1 << 17];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    size_t n;
    const ww_host_authz_row_t *rows = ww_host_authz_table(&n);
    for (size_t i = 0; i < n; i++) {
        char line[512], s[96], t[96];
        snprintf(s, sizeof s, "%s",
                 ww_host_authz_cell(&rows[i], rows[i].service));
        snprintf(t, sizeof t, "%s",
                 ww_host_authz_cell(&rows[i], rows[i].trainer));
        snprintf(line, sizeof line, "\n| `%s` | %s | %s | %s |\n",
                 rows[i].method, s, t,
                 ww_host_authz_cell(&rows[i], rows[i].user));
        WW_ASSERT_MSG(strstr(doc, line), "docs/security.md lacks the row%s",
                      line);
    }
    size_t shown = 0;
    for (const char *p = doc; (p = strstr(p, "\n| `/")); p++)
        shown++;
    WW_ASSERT_EQ_INT(shown, n);
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(every_served_method_has_a_row_and_every_row_a_method),
            WW_CASE(a_method_without_a_row_stops_the_start),
            WW_CASE(every_role_but_none_has_its_rules),
            WW_CASE(docs_show_the_same_table),
            {0}});
}
