// SPDX-License-Identifier: GPL-2.0
/* xlvs: the command-line tool of the XDP Linux Virtual Server. All of it is xlvs_main(). */
#include <stdio.h>

#include "xlvs.h"

int main(int argc, char **argv)
{
	return xlvs_main(argc, argv, stdout, stderr);
}
