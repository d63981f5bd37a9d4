/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "sgx-tools: not implemented yet\n");
	return 1;
}
