/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a libFuzzer target over files given on the command line, plus a
 * deterministic set of mutations of each, for builds without libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_mutations(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 1);
	uint32_t x = 2463534242u;

	if (!buf)
		abort();
	LLVMFuzzerTestOneInput(data, size);
	for (int i = 0; i < 2000 && size; i++) {
		memcpy(buf, data, size);
		for (int k = 0; k < 1 + i % 8; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[x % size] = (uint8_t)(x >> 8);
		}
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		LLVMFuzzerTestOneInput(buf, x % (size + 1)); /* truncations too */
	}
	free(buf);
}

int main(int argc, char *argv[])
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 99;
		}
		static uint8_t data[1 << 20];
		size_t size = fread(data, 1, sizeof(data), f);
		fclose(f);
		run_mutations(data, size);
		n++;
	}
	fprintf(stderr, "fuzz-main: %d inputs and their mutations ran\n", n);
	return n ? 0 : 99;
}
