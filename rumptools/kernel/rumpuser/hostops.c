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
	}
	return m;
}
