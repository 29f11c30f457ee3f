/*
 * The WSGI environ of a plain request in one C call (optional; servers/wsgi/environ.py
 * selects it). Built like the HTTP/1.1 core's accelerator (servers/protocol/_hot.c).
 *
 * How this works: ``try_environ`` only ACCEPTS. For a plain request it returns the
 * same dict the pure-Python reference (``environ._reference_environ``) would; for
 * anything else it returns None:
 *   - a target that is not origin-form, or holds '#' or a '%' in its path;
 *   - a root path (SCRIPT_NAME) to strip, or no server address in the base;
 *   - a header name not in the name memo yet (the reference fills it), or a header
 *     repeated (the reference joins the values);
 *   - anything of an unexpected type.
 * ``request_environ`` is what servers call: ``try_environ``, then the reference (set by
 * ``configure``) on the same arguments when that returned None or the C path is off
 * (``set_enabled``). The differential test (tests/servers/wsgi/test_environ_accel.py)
 * holds both paths to equal environs.
 *
 * The memos are the reference's own dicts, shared by ``configure``: header name ->
 * environ key (None: the field is dropped), method bytes -> str, version -> protocol.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *KEYS, *METHODS, *PROTOCOLS, *FALLBACK; /* set by configure() */
static int ENABLED = 1;

static PyObject *A_METHOD, *A_TARGET, *A_VERSION, *A_HEADERS;
static PyObject *K_METHOD, *K_PATH, *K_QUERY, *K_PROTOCOL, *K_INPUT, *K_SCRIPT, *K_SERVER;
static PyObject *EMPTY;

/* Attribute ``name`` of ``obj`` if it is exactly bytes (new reference), else NULL
 * with no error set for a wrong type (an AttributeError is cleared too: the reference
 * raises its own). */
static PyObject *
bytes_attr(PyObject *obj, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (!PyBytes_CheckExact(value)) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* Set environ[key] = value (a new reference, stolen). Returns -1 on error. */
static int
set_stolen(PyObject *environ, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        return -1;
    }
    int rc = PyDict_SetItem(environ, key, value);
    Py_DECREF(value);
    return rc;
}

/* The text of ``raw`` (latin-1) looked up in ``memo`` first (new reference). */
static PyObject *
memo_text(PyObject *memo, PyObject *raw, const char *prefix)
{
    PyObject *found = PyDict_GetItemWithError(memo, raw);
    if (found != NULL) {
        Py_INCREF(found);
        return found;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), NULL);
    if (text == NULL || prefix == NULL) {
        return text;
    }
    PyObject *full = PyUnicode_FromFormat("%s%U", prefix, text);
    Py_DECREF(text);
    return full;
}

/* The header loop of the reference. 1: done; 0: refuse (None); -1: error. */
static int
add_headers(PyObject *environ, PyObject *headers)
{
    if (!PyList_CheckExact(headers)) {
        return 0;
    }
    Py_ssize_t count = PyList_GET_SIZE(headers);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) {
            return 0;
        }
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        PyObject *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value)) {
            return 0;
        }
        PyObject *key = PyDict_GetItemWithError(KEYS, name); /* borrowed */
        if (key == NULL) {
            return PyErr_Occurred() ? -1 : 0; /* not in the memo yet: the reference adds it */
        }
        if (key == Py_None) {
            continue; /* a dropped field (an underscore in its name) */
        }
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
        int present = PyDict_Contains(environ, key);
        if (present != 0) {
            return present < 0 ? -1 : 0; /* repeated: the reference joins the values */
        }
        PyObject *text =
            PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL);
        if (set_stolen(environ, key, text) < 0) {
            return -1;
        }
    }
    return 1;
}

/* The environ, None to refuse, or NULL with an error set. */
static PyObject *
try_environ_impl(PyObject *request, PyObject *base, PyObject *body)
{
    if (KEYS == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_environ.configure() was not called");
        return NULL;
    }
    if (!PyDict_CheckExact(base)) {
        Py_RETURN_NONE;
    }
    PyObject *root = PyDict_GetItemWithError(base, K_SCRIPT); /* borrowed */
    if (root == NULL || !PyUnicode_CheckExact(root) || PyUnicode_GET_LENGTH(root) != 0) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE; /* a root path to strip (or no SCRIPT_NAME): the reference's case */
    }
    int has_server = PyDict_Contains(base, K_SERVER);
    if (has_server <= 0) {
        if (has_server < 0) {
            return NULL;
        }
        Py_RETURN_NONE; /* SERVER_NAME from the Host header: the reference's case */
    }
    PyObject *result = NULL, *environ = NULL, *headers = NULL;
    PyObject *method = NULL, *target = NULL, *version = NULL;
    if ((target = bytes_attr(request, A_TARGET)) == NULL
        || (method = bytes_attr(request, A_METHOD)) == NULL
        || (version = bytes_attr(request, A_VERSION)) == NULL) {
        goto refuse;
    }
    const char *raw = PyBytes_AS_STRING(target);
    Py_ssize_t size = PyBytes_GET_SIZE(target);
    if (size == 0 || raw[0] != '/' || memchr(raw, '#', (size_t)size) != NULL) {
        goto refuse;
    }
    const char *mark = memchr(raw, '?', (size_t)size);
    Py_ssize_t path_size = mark == NULL ? size : mark - raw;
    if (memchr(raw, '%', (size_t)path_size) != NULL) {
        goto refuse; /* percent-decoding: the reference's case */
    }
    headers = PyObject_GetAttr(request, A_HEADERS);
    if (headers == NULL) {
        PyErr_Clear();
        goto refuse;
    }
    environ = PyDict_Copy(base);
    if (environ == NULL) {
        goto done;
    }
    if (set_stolen(environ, K_METHOD, memo_text(METHODS, method, NULL)) < 0
        || set_stolen(environ, K_PATH, PyUnicode_DecodeLatin1(raw, path_size, NULL)) < 0) {
        goto done;
    }
    if (mark != NULL && size - path_size > 1) {
        if (set_stolen(environ, K_QUERY,
                       PyUnicode_DecodeLatin1(mark + 1, size - path_size - 1, NULL)) < 0) {
            goto done;
        }
    }
    else if (PyDict_SetItem(environ, K_QUERY, EMPTY) < 0) {
        goto done;
    }
    if (set_stolen(environ, K_PROTOCOL, memo_text(PROTOCOLS, version, "HTTP/")) < 0
        || PyDict_SetItem(environ, K_INPUT, body) < 0) {
        goto done;
    }
    int added = add_headers(environ, headers);
    if (added < 0) {
        goto done;
    }
    if (added == 0) {
        goto refuse;
    }
    result = environ;
    environ = NULL;
    goto done;
refuse:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(environ);
    Py_XDECREF(headers);
    Py_XDECREF(method);
    Py_XDECREF(target);
    Py_XDECREF(version);
    return result;
}

static PyObject *
try_environ(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "try_environ(request, base, body)");
        return NULL;
    }
    return try_environ_impl(args[0], args[1], args[2]);
}

static PyObject *
request_environ(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "request_environ(request, base, body)");
        return NULL;
    }
    if (ENABLED) {
        PyObject *found = try_environ_impl(args[0], args[1], args[2]);
        if (found != Py_None) {
            return found; /* the environ, or NULL with an error */
        }
        Py_DECREF(found);
    }
    return PyObject_Vectorcall(FALLBACK, args, 3, NULL);
}

static PyObject *
configure(PyObject *self, PyObject *args)
{
    PyObject *keys, *methods, *protocols, *fallback;
    if (!PyArg_ParseTuple(args, "O!O!O!O:configure", &PyDict_Type, &keys, &PyDict_Type,
                          &methods, &PyDict_Type, &protocols, &fallback)) {
        return NULL;
    }
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "configure: the fallback must be callable");
        return NULL;
    }
    Py_INCREF(keys);
    Py_INCREF(methods);
    Py_INCREF(protocols);
    Py_INCREF(fallback);
    Py_XSETREF(KEYS, keys);
    Py_XSETREF(METHODS, methods);
    Py_XSETREF(PROTOCOLS, protocols);
    Py_XSETREF(FALLBACK, fallback);
    Py_RETURN_NONE;
}

static PyObject *
set_enabled(PyObject *self, PyObject *flag)
{
    int on = PyObject_IsTrue(flag);
    if (on < 0) {
        return NULL;
    }
    int was = ENABLED;
    ENABLED = on;
    return PyBool_FromLong(was);
}

static PyMethodDef functions[] = {
    {"try_environ", (PyCFunction)(void (*)(void))try_environ, METH_FASTCALL,
     "try_environ(request, base, body): the environ of a plain request, or None."},
    {"request_environ", (PyCFunction)(void (*)(void))request_environ, METH_FASTCALL,
     "request_environ(request, base, body): the PEP 3333 environ (C when it can, else the "
     "reference given to configure())."},
    {"configure", configure, METH_VARARGS,
     "configure(keys, methods, protocols, fallback): the reference's memos and itself."},
    {"set_enabled", set_enabled, METH_O,
     "set_enabled(flag): whether request_environ tries the C path first; returns the old flag."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_environ", "The WSGI environ of a plain request in C (accept-only).",
    -1, functions,
};

PyMODINIT_FUNC
PyInit__environ(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&A_METHOD, "method"},          {&A_TARGET, "target"},
        {&A_VERSION, "http_version"},   {&A_HEADERS, "headers"},
        {&K_METHOD, "REQUEST_METHOD"},  {&K_PATH, "PATH_INFO"},
        {&K_QUERY, "QUERY_STRING"},     {&K_PROTOCOL, "SERVER_PROTOCOL"},
        {&K_INPUT, "wsgi.input"},       {&K_SCRIPT, "SCRIPT_NAME"},
        {&K_SERVER, "SERVER_NAME"},     {&EMPTY, ""},
    };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        *names[k].slot = PyUnicode_InternFromString(names[k].text);
        if (*names[k].slot == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module);
}
