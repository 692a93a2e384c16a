/*
 * pipeprime NAME: a test-only tool for build/wine-test.sh. It waits (up to
 * 10 s) for the named pipe NAME to exist, connects once and disconnects.
 *
 * Under Wine 8.0 the first client of a go-winio pipe connects to go-winio's
 * placeholder instance, which it creates without read or write access so
 * that Windows keeps it disconnected (Wine does not): nobody serves that
 * connection and its deadlines never fire. This throwaway connection takes
 * it; every later one is served. Real Windows needs none of this.
 */
#include <windows.h>

int wmain(int argc, wchar_t **argv)
{
	if (argc != 2)
		return 2;
	for (int i = 0; i < 100; i++) {
		HANDLE h = CreateFileW(argv[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
		if (h != INVALID_HANDLE_VALUE) {
			CloseHandle(h);
			return 0;
		}
		Sleep(100);
	}
	return 1;
}
