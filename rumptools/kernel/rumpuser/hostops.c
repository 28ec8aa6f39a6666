/*
 * _hostops: the few host operations Python cannot do by itself, for the
 * rumpuser layer (the only part of the kernel that touches the host).
 *
 *   cas32(buf, off, expect, new) -> old   atomic compare-and-swap of the
 *                                         aligned 32-bit word at buf+off
 *   swap32(buf, off, new) -> old          atomic exchange (release)
 *   load32(buf, off) -> value             atomic load (acquire)
 *   inotify_init() -> fd                  non-blocking, close-on-exec
 *   inotify_add_watch(fd, path, mask) -> watch descriptor
 *   shmif_send(buf, frame, sec, usec, sender) -> packet offset, or
 *                                         SEND_BUSY / SEND_INSANE /
 *                                         SEND_DAMAGED (see below)
 *
 * buf is any writable buffer (an mmap.mmap of a shared file mapping in
 * practice): the atomics act on the shared pages themselves, so they are
 * atomic against other processes that map the same file, whatever language
 * they are written in (NetBSD's shmif uses atomic_cas_32 on the same word).
 * Built from source at install time (setup.py); no other code here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>

/* Borrow a writable view of buf and return a pointer to the aligned
 * 32-bit word at off, or NULL with an exception set. */
static uint32_t *
word_at(Py_buffer *view, PyObject *buf, Py_ssize_t off)
{
	if (PyObject_GetBuffer(buf, view, PyBUF_WRITABLE) < 0)
		return NULL;
	if (off < 0 || off > view->len - 4) {
		PyBuffer_Release(view);
		PyErr_SetString(PyExc_IndexError, "word offset out of range");
		return NULL;
	}
	if (((uintptr_t)view->buf + off) % 4 != 0) {
		PyBuffer_Release(view);
		PyErr_SetString(PyExc_ValueError, "word is not 4-byte aligned");
		return NULL;
	}
	return (uint32_t *)((char *)view->buf + off);
}

static PyObject *
hostops_cas32(PyObject *self, PyObject *args)
{
	PyObject *buf;
	Py_ssize_t off;
	unsigned int expect, desired;
	Py_buffer view;
	uint32_t *w, old;

	if (!PyArg_ParseTuple(args, "OnII", &buf, &off, &expect, &desired))
		return NULL;
	if ((w = word_at(&view, buf, off)) == NULL)
		return NULL;
	old = expect;
	__atomic_compare_exchange_n(w, &old, (uint32_t)desired, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	PyBuffer_Release(&view);
	return PyLong_FromUnsignedLong(old);
}

static PyObject *
hostops_swap32(PyObject *self, PyObject *args)
{
	PyObject *buf;
	Py_ssize_t off;
	unsigned int desired;
	Py_buffer view;
	uint32_t *w, old;

	if (!PyArg_ParseTuple(args, "OnI", &buf, &off, &desired))
		return NULL;
	if ((w = word_at(&view, buf, off)) == NULL)
		return NULL;
	old = __atomic_exchange_n(w, (uint32_t)desired, __ATOMIC_ACQ_REL);
	PyBuffer_Release(&view);
	return PyLong_FromUnsignedLong(old);
}

static PyObject *
hostops_load32(PyObject *self, PyObject *args)
{
	PyObject *buf;
	Py_ssize_t off;
	Py_buffer view;
	uint32_t *w, v;

	if (!PyArg_ParseTuple(args, "On", &buf, &off))
		return NULL;
	if ((w = word_at(&view, buf, off)) == NULL)
		return NULL;
	v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	PyBuffer_Release(&view);
	return PyLong_FromUnsignedLong(v);
}

static PyObject *
hostops_inotify_init(PyObject *self, PyObject *noargs)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd == -1)
		return PyErr_SetFromErrno(PyExc_OSError);
	return PyLong_FromLong(fd);
}

static PyObject *
hostops_inotify_add_watch(PyObject *self, PyObject *args)
{
	int fd, wd;
	unsigned int mask;
	PyObject *path;

	if (!PyArg_ParseTuple(args, "iO&I", &fd, PyUnicode_FSConverter, &path,
	    &mask))
		return NULL;
	wd = inotify_add_watch(fd, PyBytes_AS_STRING(path), mask);
	Py_DECREF(path);
	if (wd == -1)
		return PyErr_SetFromErrno(PyExc_OSError);
	return PyLong_FromLong(wd);
}

/*
 * shmif_send: the bus sender's fast path, the same steps as
 * rumptools.formats.shmif's Ring.append for a version-3, native-order bus
 * (24-byte packet headers), with the lock taken and dropped around them:
 * one try of the lock word (SEND_BUSY, nothing done, if it is held); a
 * ring whose first/last lie outside it gives SEND_INSANE with the lock held
 * and nothing written; bookkeeping that turns out damaged part-way (a walk
 * of `first` that does not end) gives SEND_DAMAGED with the lock held and
 * the writes so far made, exactly where Ring._append raises BusCorrupt.
 * The caller finishes those two cases in Python (Ring.append / repair) and
 * unlocks.  On success the lock is released and the return value is the
 * data offset of the new packet (Ring.append's result).
 */
#define SHM_HDRSIZE	32
#define SHM_DATASIZE	(1024 * 1024 - SHM_HDRSIZE)
#define SHM_PKTHDR	24
#define SHM_MAXLEN	(SHM_DATASIZE / 2)
#define SHM_OFF_GEN	8
#define SHM_OFF_FIRST	16
#define SHM_OFF_LAST	20
#define SHM_OFF_LOCK	24
#define SEND_BUSY	(-1)
#define SEND_INSANE	(-2)
#define SEND_DAMAGED	(-3)

/* The u32 at data offset off (off <= DATASIZE), wrapping byte by byte. */
static uint32_t
ring_u32(const unsigned char *data, uint32_t off)
{
	unsigned char b[4];
	uint32_t v;
	int i;

	if (off + 4 <= SHM_DATASIZE) {
		memcpy(&v, data + off, 4);
		return v;
	}
	for (i = 0; i < 4; i++)
		b[i] = data[(off + i) % SHM_DATASIZE];
	memcpy(&v, b, 4);
	return v;
}

/* Ring.nextpktoff; -1 where pktlen would raise BusCorrupt. */
static int64_t
ring_nextpktoff(const unsigned char *data, uint32_t off)
{
	uint32_t n;
	uint64_t r;

	if (off > SHM_DATASIZE)
		return -1;
	n = ring_u32(data, off);
	if (n >= SHM_MAXLEN)
		n = 0;
	r = (uint64_t)off + SHM_PKTHDR + n;
	return r >= SHM_DATASIZE ? (int64_t)(r - SHM_DATASIZE) : (int64_t)r;
}

/* Ring._advancefirst; 0, or -1 where it raises BusCorrupt. */
static int
ring_advancefirst(unsigned char *mem, uint64_t off, uint64_t n)
{
	unsigned char *data = mem + SHM_HDRSIZE;
	uint32_t start, first;
	int64_t nx;
	long i;

	memcpy(&start, mem + SHM_OFF_FIRST, 4);
	first = start;
	for (i = 0; i < SHM_DATASIZE / SHM_PKTHDR + 2; i++) {
		if (!(off <= (uint64_t)first + SHM_PKTHDR && off + n > first))
			break;
		if ((nx = ring_nextpktoff(data, first)) < 0)
			return -1;
		first = (uint32_t)nx;
	}
	if (i == SHM_DATASIZE / SHM_PKTHDR + 2)
		return -1;
	if (first != start)
		memcpy(mem + SHM_OFF_FIRST, &first, 4);
	return 0;
}

static PyObject *
hostops_shmif_send(PyObject *self, PyObject *args)
{
	PyObject *buf;
	Py_buffer view, fr;
	unsigned int sec, usec;
	unsigned long long sender;
	unsigned char *mem, *data, pkt[SHM_PKTHDR + 2048];
	uint32_t *lock, expect, first, last, len, chunk, rest, zero = 0;
	uint64_t gen;
	int64_t nx;
	long ret;
	int filled;

	if (!PyArg_ParseTuple(args, "Oy*IIK", &buf, &fr, &sec, &usec, &sender))
		return NULL;
	if (fr.len > 2048) {
		PyBuffer_Release(&fr);
		PyErr_SetString(PyExc_ValueError, "frame too long for the fast path");
		return NULL;
	}
	if ((lock = word_at(&view, buf, SHM_OFF_LOCK)) == NULL) {
		PyBuffer_Release(&fr);
		return NULL;
	}
	if (view.len < SHM_HDRSIZE + SHM_DATASIZE) {
		PyBuffer_Release(&view);
		PyBuffer_Release(&fr);
		PyErr_SetString(PyExc_ValueError, "buffer smaller than a bus");
		return NULL;
	}
	mem = view.buf;
	data = mem + SHM_HDRSIZE;
	len = (uint32_t)fr.len;
	/* the packet: header (u32 len, sec, usec, 4 pad, u64 sender) + frame */
	memcpy(pkt, &len, 4);
	memcpy(pkt + 4, &sec, 4);
	memcpy(pkt + 8, &usec, 4);
	memset(pkt + 12, 0, 4);
	{
		uint64_t s64 = sender;
		memcpy(pkt + 16, &s64, 8);
	}
	memcpy(pkt + SHM_PKTHDR, fr.buf, fr.len);
	PyBuffer_Release(&fr);
	len += SHM_PKTHDR;

	expect = 0;
	if (!__atomic_compare_exchange_n(lock, &expect, 1, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		ret = SEND_BUSY;
		goto out;
	}
	memcpy(&first, mem + SHM_OFF_FIRST, 4);
	memcpy(&last, mem + SHM_OFF_LAST, 4);
	if (!(first <= SHM_DATASIZE && last < SHM_DATASIZE)) {
		ret = SEND_INSANE;
		goto out;
	}
	ret = SEND_DAMAGED;
	if ((nx = ring_nextpktoff(data, last)) < 0)
		goto out;
	last = (uint32_t)nx;
	memcpy(mem + SHM_OFF_LAST, &last, 4);
	chunk = len < SHM_DATASIZE - last ? len : SHM_DATASIZE - last;
	filled = last + chunk == SHM_DATASIZE;
	if (ring_advancefirst(mem, last, chunk + (filled ? 1 : 0)) < 0)
		goto out;
	memcpy(data + last, pkt, chunk);
	if (chunk < len) {
		rest = len - chunk;
		if (ring_advancefirst(mem, 0, rest) < 0)
			goto out;
		memcpy(data, pkt + chunk, rest);
	}
	if (filled) {
		memcpy(&gen, mem + SHM_OFF_GEN, 8);
		gen++;
		memcpy(mem + SHM_OFF_GEN, &gen, 8);
	}
	__atomic_exchange_n(lock, zero, __ATOMIC_ACQ_REL);
	ret = last;
out:
	PyBuffer_Release(&view);
	return PyLong_FromLong(ret);
}

static PyMethodDef hostops_methods[] = {
	{"cas32", hostops_cas32, METH_VARARGS,
	 "cas32(buf, off, expect, new) -> old: atomic compare-and-swap"},
	{"swap32", hostops_swap32, METH_VARARGS,
	 "swap32(buf, off, new) -> old: atomic exchange"},
	{"load32", hostops_load32, METH_VARARGS,
	 "load32(buf, off) -> value: atomic load"},
	{"inotify_init", hostops_inotify_init, METH_NOARGS,
	 "inotify_init() -> fd (non-blocking, close-on-exec)"},
	{"inotify_add_watch", hostops_inotify_add_watch, METH_VARARGS,
	 "inotify_add_watch(fd, path, mask) -> wd"},
	{"shmif_send", hostops_shmif_send, METH_VARARGS,
	 "shmif_send(buf, frame, sec, usec, sender) -> offset or SEND_*"},
	{NULL, NULL, 0, NULL}
};

static struct PyModuleDef hostops_module = {
	PyModuleDef_HEAD_INIT, "_hostops",
	"Atomic operations on shared mappings and inotify, for rumpuser.",
	-1, hostops_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__hostops(void)
{
	PyObject *m = PyModule_Create(&hostops_module);

	if (m != NULL) {
		PyModule_AddIntConstant(m, "IN_MODIFY", IN_MODIFY);
		PyModule_AddIntConstant(m, "SEND_BUSY", SEND_BUSY);
		PyModule_AddIntConstant(m, "SEND_INSANE", SEND_INSANE);
		PyModule_AddIntConstant(m, "SEND_DAMAGED", SEND_DAMAGED);
	}
	return m;
}
