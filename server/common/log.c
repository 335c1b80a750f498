/* log.c - the server's log (see log.h). */
#include "server/common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Written once by main() before threads start, then only read. */
static srv_log_level log_threshold = SRV_LOG_INFO;

void
srv_log_set_level(srv_log_level level)
{
	log_threshold = level;
}

int
srv_log_parse_level(const char *name)
{
	for (int i = 0; i <= SRV_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void
srv_log(srv_log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pushq: %s: %s\n", level_names[level], line);
}
