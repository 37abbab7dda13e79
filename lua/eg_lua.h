/* eg_lua.h - tuning scripts: a Lua file that declares problems, a search space, limits, a constraint
 * and a strategy becomes an eg_tune_plan for the autotuner. The only interface to Lua in effgen (lua.h
 * is included in lua/ alone); scripts run in a restricted environment (no io, os, package, debug, and
 * no loading of other files or of bytecode). See docs/tuning.md for the script language. */
#ifndef EG_LUA_H
#define EG_LUA_H

#include <stddef.h>

#include "autotune.h"

/* Run the script at path and build its plan. Errors carry "file:line: message": EFFGEN_PARSE for a
 * syntax error, EFFGEN_INVALID_ARGUMENT for a runtime error, an unknown parameter or a bad value,
 * EFFGEN_IO when the file cannot be read. The plan keeps the script's Lua state for its constraint and
 * strategy functions: free it with eg_lua_plan_free (NULL is a no-op). A plan is used from one thread. */
effgen_status eg_lua_plan_load(const char *path, eg_tune_plan **out);
void eg_lua_plan_free(eg_tune_plan *plan);

/* Path of the default tuning script (default.lua): the source tree's when it is present, else the
 * installed one. EFFGEN_IO when neither exists. */
effgen_status eg_lua_default_script(char *buf, size_t size);

#endif
