/* wwctl_commands.h - every wwctl command, one line each, in the order
 * `wwctl --help` lists them.
 *
 * No include guard: wwctl.c includes it twice, with WWCTL_COMMAND(sym)
 * defined first to declare each `const wwctl_cmd_t sym` (wwctl_cmd.h) and
 * then to list it. A new command lives in a .c file of its own (added to
 * tools/CMakeLists.txt) that defines its wwctl_cmd_t, plus one line here. */
WWCTL_COMMAND(wwctl_trainer_cmd)
WWCTL_COMMAND(wwctl_trainings_cmd)
WWCTL_COMMAND(wwctl_users_cmd)
WWCTL_COMMAND(wwctl_health_cmd)
WWCTL_COMMAND(wwctl_fixtures_cmd)
WWCTL_COMMAND(wwctl_digest_cmd)
WWCTL_COMMAND(wwctl_replay_cmd)
WWCTL_COMMAND(wwctl_tail_cmd)
WWCTL_COMMAND(wwctl_dlq_cmd)
