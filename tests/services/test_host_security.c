/* test_host_security.c - which gRPC targets count as this host, for the
 * local-mode warning of clients (ww_host_security_is_loopback). */
#include "ww_host_security.h"
#include "ww_test.h"

WW_TEST(loopback_names_addresses_and_sockets_are_local) {
    const char *local[] = {
        "localhost:3000",
        "LOCALHOST:3000",
        "localhost",
        "trainer.localhost:1",
        "127.0.0.1:3000",
        "127.1.2.3:80",
        "127.0.0.1",
        "[::1]:3000",
        "[::1]",
        "::1",
        "[::ffff:127.0.0.1]:3000",
        "dns:localhost:3000",
        "dns:///127.0.0.1:3000",
        "dns://8.8.8.8/localhost:3000",
        "ipv4:127.0.0.1:3000",
        "ipv4:127.0.0.1:1,127.0.0.2:2",
        "ipv6:[::1]:3000",
        "unix:/tmp/ww.sock",
        "unix-abstract:ww",
    };
    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        WW_ASSERT_MSG(ww_host_security_is_loopback(local[i]),
                      "%s should be local", local[i]);
}

WW_TEST(other_hosts_and_malformed_targets_are_remote) {
    const char *remote[] = {
        "trainer:3000",
        "10.0.0.5:3000",
        "128.0.0.1:3000",
        "[2001:db8::1]:3000",
        "2001:db8::1",
        "[::ffff:10.0.0.1]:1",
        "localhost.example:1",
        "notlocalhost:3000",
        "dns:///trainer:3000",
        "ipv4:127.0.0.1:1,10.0.0.1:2",
        "",
        "dns://",
        "[::1",
        "0.0.0.0:3000",
    };
    for (size_t i = 0; i < sizeof remote / sizeof *remote; i++)
        WW_ASSERT_MSG(!ww_host_security_is_loopback(remote[i]),
                      "%s should be remote", remote[i]);
    WW_ASSERT(!ww_host_security_is_loopback(NULL));
}

int main(int argc, char **argv) {
    return ww_test_main(
        argc, argv,
        (ww_test_case_t[]){
            WW_CASE(loopback_names_addresses_and_sockets_are_local),
            WW_CASE(other_hosts_and_malformed_targets_are_remote),
            {0}});
}
