/*
 * A test-only bcryptprimitives.dll for Wine 8.0, which lacks ProcessPrng:
 * Go >= 1.24 binaries call it at start and abort without it. It forwards to
 * BCryptGenRandom with the system-preferred RNG. build/wine-test.sh builds it
 * with mingw and copies it into its private WINEPREFIX only; feedkey never
 * ships or needs it (real Windows 10/11 has ProcessPrng).
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
