"""What both sides of the wire agree on: the syscall table, errno numbers, flags,
stat layout, signals and ioctl shapes. Imports nothing else of the project."""
