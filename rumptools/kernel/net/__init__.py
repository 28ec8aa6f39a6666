"""Networking core: interfaces, sockets, routing, Ethernet, shmif (NetBSD's sys/net)."""
