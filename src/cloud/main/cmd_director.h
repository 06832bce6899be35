/* `imago-cloud director ...` (cmd_director*.c, docs/director.md). */
#ifndef IMAGO_CLOUD_MAIN_CMD_DIRECTOR_H
#define IMAGO_CLOUD_MAIN_CMD_DIRECTOR_H

int imago_cloud_cmd_director(int argc, char **argv);

/* Subcommands (cmd_director.c: keys, root, status; cmd_director_assign.c: assign, clear). */
int imago_cloud_director_keys(int argc, char **argv);
int imago_cloud_director_root(int argc, char **argv);
int imago_cloud_director_status(int argc, char **argv);
int imago_cloud_director_assign(int argc, char **argv);
int imago_cloud_director_clear(int argc, char **argv);

#endif
