/* commands.h — the `vnd` subcommands, one file each (cmd_NAME.c).
 * Each takes argv from the subcommand name on and returns the exit
 * status. */
#ifndef VND_CLI_COMMANDS_H
#define VND_CLI_COMMANDS_H

int cmd_parse(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_fields(int argc, char **argv);
int cmd_diag(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_testbed(int argc, char **argv);
/* Runs scripts/NAME.sh (cmd_testbed.c); returns only on failure. */
int vnd_run_script(const char *name, const char *what, int argc, char **argv);
/* the control server's tenant API (cmd_service.c) */
int cmd_submit(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_fetch_pcap(int argc, char **argv);
int cmd_admin(int argc, char **argv);

#endif
