/* cli.h - subcommands of the effgen front end that live in their own files. Each takes the arguments
 * after the program name (argv[0] is the subcommand) and returns the process exit status. */
#ifndef EG_CLI_H
#define EG_CLI_H

int eg_cli_db(int argc, char **argv);   /* cmd_db.c: effgen db list|show|export|import|merge|verify|vacuum */
int eg_cli_tune(int argc, char **argv); /* cmd_tune.c: effgen tune */
int eg_cli_pack(int argc, char **argv); /* cmd_tune.c: effgen pack */

/* Parses v, the value of option flag, as a whole number from 1 to 2^20 into *out; otherwise prints an error
 * that names the option and the value and returns 0 (cmd_tune.c). */
int eg_cli_positive(const char *flag, const char *v, int *out);

#endif
