"""fsck_ffs's checker, apart from its command line (rumptools.commands.fsck_ffs).

ask.py     questions, answers and the -n/-y/-p policy, NetBSD's wording
state.py   the checker's memory of the file system: superblock, inode states,
           link counts, the block map it rebuilds, and the writes it makes
pass1.py   inodes: types, block pointers, block counts (phase 1, 1b)
pass2.py   directory entries (phase 2)
pass34.py  connectivity and reference counts, lost+found (phases 3, 4)
pass5.py   cylinder groups, summaries, superblock totals (phase 5)
check.py   the run: set-up, phases in order, the summary and the end
"""
