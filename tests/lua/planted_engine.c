/*
 * planted_engine.c - a shared object someone left where ringlab looks for
 * engines (engine_loading.sh copies it in as ringlab-engine-planted.so).
 * It is no engine: its constructor only writes a mark, the file named by
 * $RINGLAB_TEST_PLANTED_MARK, so the test can tell whether it was loaded.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void planted(void)
{
	const char *mark = getenv("RINGLAB_TEST_PLANTED_MARK");
	int fd;

	if (!mark)
		return;
	fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
}
