/*
 * The HTTP/1.1 core's hot path in C (optional; servers/protocol/_accel.py selects it).
 *
 * How this works: every function here only ACCEPTS. It returns the parsed or
 * serialized result for input that is plainly valid, and None for anything else. On
 * None the caller runs the pure-Python reference on the same input, which decides:
 * it raises the exact error (message and HTTP status) or accepts an unusual form the
 * C side does not handle (other target forms, Transfer-Encoding, ...). So the C path
 * can never be more lenient than the reference as long as each check below is at
 * least as strict as its Python counterpart, and the differential test
 * (tests/servers/protocol/test_http11_accel.py) holds both to the same events, errors
 * and bytes.
 *
 *   split_lines(block)                 ~ _fields.split_lines
 *   parse_fields(lines, count, size)   ~ _fields.parse_fields (size: max line w/o CRLF)
 *   request_line(line)                 ~ _heads.parse_request_line, origin-form only
 *   request_head(buf, limits)          ~ Connection._take_head and the three above, at once
 *   response_fields(headers)           ~ the header loop of _serialize.response_head
 *   whole_response(line, headers, body, tail)
 *                                      ~ Connection.send_whole for a response with a body
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <string.h>

/* tchar (RFC 9110 5.6.2): a token's bytes. */
static unsigned char TCHAR[256];
/* HTAB, SP, VCHAR, obs-text: what a head line may hold. */
static unsigned char TEXT[256];
/* What an origin-form target may hold after "/" besides pct-encodings. */
static unsigned char TARGET[256];
static unsigned char HEX[256];

static PyObject *SPECIAL[6];
static PyObject *NAME_CL, *NAME_TE, *NAME_CONN, *NAME_DATE, *NAME_SERVER;
static PyObject *V10, *V11;

static void
init_tables(void)
{
    const char *extra = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; c++) {
        TCHAR[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        TEXT[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
        TARGET[c] = c > 0x20 && c != 0x7f && c != '#' && c != '%';
        HEX[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    for (const char *p = extra; *p; p++) {
        TCHAR[(unsigned char)*p] = 1;
    }
}

/* split_lines(block: bytes) -> list[bytes] | None */
static PyObject *
split_lines(PyObject *self, PyObject *block)
{
    if (!PyBytes_CheckExact(block)) {
        Py_RETURN_NONE;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(block);
    Py_ssize_t n = PyBytes_GET_SIZE(block), start = 0, i = 0;
    PyObject *lines = PyList_New(0);
    if (lines == NULL) {
        return NULL;
    }
    while (i < n) {
        unsigned char c = s[i];
        if (TEXT[c]) {
            i++;
            continue;
        }
        if (c != '\r' || i + 1 >= n || s[i + 1] != '\n') {
            Py_DECREF(lines);
            Py_RETURN_NONE; /* a control byte, or a CR or LF outside a CRLF */
        }
        PyObject *line = PyBytes_FromStringAndSize((const char *)s + start, i - start);
        if (line == NULL || PyList_Append(lines, line) < 0) {
            Py_XDECREF(line);
            Py_DECREF(lines);
            return NULL;
        }
        Py_DECREF(line);
        i += 2;
        start = i;
    }
    PyObject *line = PyBytes_FromStringAndSize((const char *)s + start, n - start);
    if (line == NULL || PyList_Append(lines, line) < 0) {
        Py_XDECREF(line);
        Py_DECREF(lines);
        return NULL;
    }
    Py_DECREF(line);
    return lines;
}

static PyObject *
special_name(const char *lower, Py_ssize_t len)
{
    for (int k = 0; k < 6; k++) {
        if (PyBytes_GET_SIZE(SPECIAL[k]) == len
            && memcmp(PyBytes_AS_STRING(SPECIAL[k]), lower, (size_t)len) == 0) {
            return SPECIAL[k];
        }
    }
    return NULL;
}

/* One field line s[0:n] (no CRLF) into headers[k] and, for a SPECIAL name, special.
 * 1: done; 0: refuse (the reference decides); -1: a Python error is set. */
static int
field_line(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_line, PyObject *headers,
           Py_ssize_t k, PyObject *special)
{
    Py_ssize_t colon = 0;
    if (n > max_line) {
        return 0;
    }
    while (colon < n && TCHAR[s[colon]]) {
        colon++;
    }
    if (colon == 0 || colon == n || s[colon] != ':') {
        return 0; /* no name, no colon, or a non-token byte before it */
    }
    Py_ssize_t a = colon + 1, b = n;
    while (a < b && (s[a] == ' ' || s[a] == '\t')) {
        a++;
    }
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) {
        b--;
    }
    PyObject *name = PyBytes_FromStringAndSize(NULL, colon);
    if (name == NULL) {
        return -1;
    }
    char *lower = PyBytes_AS_STRING(name);
    for (Py_ssize_t j = 0; j < colon; j++) {
        unsigned char c = s[j];
        lower[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    PyObject *value = PyBytes_FromStringAndSize((const char *)s + a, b - a);
    if (value == NULL) {
        Py_DECREF(name);
        return -1;
    }
    PyObject *key = colon <= 17 ? special_name(lower, colon) : NULL;
    if (key != NULL) {
        PyObject *found = PyDict_GetItemWithError(special, key);
        if (found == NULL) {
            PyObject *fresh = PyErr_Occurred() ? NULL : PyList_New(0);
            if (fresh == NULL || PyList_Append(fresh, value) < 0
                || PyDict_SetItem(special, key, fresh) < 0) {
                Py_XDECREF(fresh);
                Py_DECREF(name);
                Py_DECREF(value);
                return -1;
            }
            Py_DECREF(fresh);
        }
        else if (PyList_Append(found, value) < 0) {
            Py_DECREF(name);
            Py_DECREF(value);
            return -1;
        }
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(name);
        Py_DECREF(value);
        return -1;
    }
    PyTuple_SET_ITEM(pair, 0, name);
    PyTuple_SET_ITEM(pair, 1, value);
    PyList_SET_ITEM(headers, k, pair);
    return 1;
}

/* parse_fields(lines: list[bytes], max_count: int, max_line: int)
 *   -> (headers, special) | None */
static PyObject *
parse_fields(PyObject *self, PyObject *args)
{
    PyObject *lines;
    Py_ssize_t max_count, max_line;
    if (!PyArg_ParseTuple(args, "O!nn:parse_fields", &PyList_Type, &lines, &max_count,
                          &max_line)) {
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(lines);
    if (count > max_count) {
        Py_RETURN_NONE;
    }
    PyObject *headers = PyList_New(count);
    PyObject *special = PyDict_New();
    if (headers == NULL || special == NULL) {
        goto error;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = PyList_GET_ITEM(lines, k);
        if (!PyBytes_CheckExact(item)) {
            goto refuse;
        }
        int got = field_line((const unsigned char *)PyBytes_AS_STRING(item),
                             PyBytes_GET_SIZE(item), max_line, headers, k, special);
        if (got < 0) {
            goto error;
        }
        if (got == 0) {
            goto refuse;
        }
    }
    PyObject *result = PyTuple_Pack(2, headers, special);
    Py_DECREF(headers);
    Py_DECREF(special);
    return result;
refuse:
    Py_XDECREF(headers);
    Py_XDECREF(special);
    Py_RETURN_NONE;
error:
    Py_XDECREF(headers);
    Py_XDECREF(special);
    return NULL;
}

/* Whether s[0:n] is  token SP "/" path-and-query SP "HTTP/1." ("0" / "1"), the method
 * not CONNECT; sets where the method ends and the target starts and ends. */
static int
line_ok(const unsigned char *s, Py_ssize_t n, Py_ssize_t *method_end, Py_ssize_t *target_start,
        Py_ssize_t *target_end)
{
    Py_ssize_t i = 0;
    while (i < n && TCHAR[s[i]]) {
        i++;
    }
    *method_end = i;
    if (i == 0 || n - i < 11 || s[i] != ' ' || s[i + 1] != '/') {
        return 0;
    }
    if (i == 7 && memcmp(s, "CONNECT", 7) == 0) {
        return 0;
    }
    Py_ssize_t end = n - 9; /* " HTTP/1.x" */
    *target_start = i + 1;
    *target_end = end;
    i += 2;
    while (i < end) {
        unsigned char c = s[i];
        if (TARGET[c]) {
            i++;
        }
        else if (c == '%' && i + 2 < end && HEX[s[i + 1]] && HEX[s[i + 2]]) {
            i += 3;
        }
        else {
            return 0;
        }
    }
    return i == end && memcmp(s + end, " HTTP/1.", 8) == 0 && (s[n - 1] == '0' || s[n - 1] == '1');
}

/* request_line(line: bytes) -> (method, target, version) | None
 * Only  token SP "/" path-and-query SP "HTTP/1." ("0" / "1"), method not CONNECT. */
static PyObject *
request_line(PyObject *self, PyObject *line)
{
    if (!PyBytes_CheckExact(line)) {
        Py_RETURN_NONE;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(line);
    Py_ssize_t n = PyBytes_GET_SIZE(line), method_end, target_start, end;
    if (!line_ok(s, n, &method_end, &target_start, &end)) {
        Py_RETURN_NONE;
    }
    PyObject *method = PyBytes_FromStringAndSize((const char *)s, method_end);
    PyObject *target = PyBytes_FromStringAndSize((const char *)s + target_start, end - target_start);
    PyObject *result = NULL;
    if (method != NULL && target != NULL) {
        result = PyTuple_Pack(3, method, target, s[n - 1] == '1' ? V11 : V10);
    }
    Py_XDECREF(method);
    Py_XDECREF(target);
    return result;
}

/* request_head(buf: bytearray, (max_request_line, max_header_bytes, max_count, max_line))
 *   -> (consumed, method, target, version, headers, special) | None
 * The whole of Connection._take_head + split_lines + request_line + parse_fields for a
 * complete head at the start of buf (no leading CRLF): consumed is the head's length
 * with its blank line, which the caller deletes from buf. Refuses (None) whatever any
 * of those refuses or raises on, and an incomplete head. */
static PyObject *
request_head(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyByteArray_CheckExact(args[0]) || !PyTuple_CheckExact(args[1])
        || PyTuple_GET_SIZE(args[1]) != 4) {
        Py_RETURN_NONE;
    }
    Py_ssize_t limit[4];
    for (int k = 0; k < 4; k++) {
        limit[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(args[1], k));
        if (limit[k] == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    const unsigned char *s = (const unsigned char *)PyByteArray_AS_STRING(args[0]);
    Py_ssize_t size = PyByteArray_GET_SIZE(args[0]);
    if (size < 4 || s[0] == '\r') {
        Py_RETURN_NONE;
    }
    const unsigned char *stop = memmem(s, (size_t)size, "\r\n\r\n", 4);
    if (stop == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t end = stop - s, first = 0;
    /* the request line: TEXT bytes up to its CRLF (split_lines refuses anything else) */
    while (first < end && TEXT[s[first]]) {
        first++;
    }
    if (first < end && (s[first] != '\r' || s[first + 1] != '\n')) {
        Py_RETURN_NONE;
    }
    if (first > limit[0] || end - first > limit[1]) {
        Py_RETURN_NONE;
    }
    Py_ssize_t method_end, target_start, target_end;
    if (!line_ok(s, first, &method_end, &target_start, &target_end)) {
        Py_RETURN_NONE;
    }
    /* count the field lines, checking the bytes as split_lines does */
    Py_ssize_t count = 0;
    for (Py_ssize_t i = first + 2; i < end; i++) {
        unsigned char c = s[i];
        if (TEXT[c]) {
            continue;
        }
        if (c != '\r' || s[i + 1] != '\n') {
            Py_RETURN_NONE;
        }
        count++;
        i++;
    }
    if (first < end) {
        count++; /* the last field line ends at the blank line */
    }
    if (count > limit[2]) {
        Py_RETURN_NONE;
    }
    PyObject *headers = PyList_New(count);
    PyObject *special = PyDict_New();
    PyObject *method = NULL, *target = NULL;
    if (headers == NULL || special == NULL) {
        goto error;
    }
    Py_ssize_t start = first + 2, k = 0;
    for (Py_ssize_t i = start; k < count; i++) {
        if (i == end || s[i] == '\r') {
            int got = field_line(s + start, i - start, limit[3], headers, k, special);
            if (got < 0) {
                goto error;
            }
            if (got == 0) {
                goto refuse;
            }
            k++;
            i++;
            start = i + 1;
        }
    }
    method = PyBytes_FromStringAndSize((const char *)s, method_end);
    target = PyBytes_FromStringAndSize((const char *)s + target_start, target_end - target_start);
    if (method == NULL || target == NULL) {
        goto error;
    }
    return Py_BuildValue("(nNNONN)", end + 4, method, target, s[first - 1] == '1' ? V11 : V10,
                         headers, special);
refuse:
    Py_XDECREF(headers);
    Py_XDECREF(special);
    Py_RETURN_NONE;
error:
    Py_XDECREF(headers);
    Py_XDECREF(special);
    Py_XDECREF(method);
    Py_XDECREF(target);
    return NULL;
}

static int
lower_equals(const unsigned char *s, Py_ssize_t n, PyObject *lower)
{
    if (PyBytes_GET_SIZE(lower) != n) {
        return 0;
    }
    const char *t = PyBytes_AS_STRING(lower);
    for (Py_ssize_t j = 0; j < n; j++) {
        unsigned char c = s[j];
        if ((char)((c >= 'A' && c <= 'Z') ? c + 32 : c) != t[j]) {
            return 0;
        }
    }
    return 1;
}

/* The header loop of response_fields and whole_response: 1 when every item of ``items``
 * is a (bytes, bytes) tuple with a token name and a value without CR, LF or NUL, with
 * at most one Content-Length of 1-19 digits and no Transfer-Encoding or Connection field
 * (the reference handles those); 0 to refuse. Sets what the caller needs to write them. */
static int
scan_fields(PyObject **items, Py_ssize_t count, PyObject **length, int *has_date,
            int *has_server, Py_ssize_t *total)
{
    *length = Py_None;
    *has_date = *has_server = 0;
    *total = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *pair = items[k];
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            return 0;
        }
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value)) {
            return 0;
        }
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(name);
        Py_ssize_t n = PyBytes_GET_SIZE(name);
        if (n == 0) {
            return 0;
        }
        for (Py_ssize_t j = 0; j < n; j++) {
            if (!TCHAR[s[j]]) {
                return 0;
            }
        }
        const unsigned char *v = (const unsigned char *)PyBytes_AS_STRING(value);
        Py_ssize_t m = PyBytes_GET_SIZE(value);
        for (Py_ssize_t j = 0; j < m; j++) {
            if (v[j] == 0 || v[j] == '\r' || v[j] == '\n') {
                return 0;
            }
        }
        if (lower_equals(s, n, NAME_CL)) {
            if (*length != Py_None || m == 0 || m > 19) {
                return 0;
            }
            for (Py_ssize_t j = 0; j < m; j++) {
                if (v[j] < '0' || v[j] > '9') {
                    return 0;
                }
            }
            *length = value;
        }
        else if (lower_equals(s, n, NAME_TE) || lower_equals(s, n, NAME_CONN)) {
            return 0;
        }
        else if (lower_equals(s, n, NAME_DATE)) {
            *has_date = 1;
        }
        else if (lower_equals(s, n, NAME_SERVER)) {
            *has_server = 1;
        }
        *total += n + m + 4;
    }
    return 1;
}

/* Write the lines scan_fields accepted ("name: value\r\n" each) at p; returns the end. */
static char *
write_fields(char *p, PyObject **items, Py_ssize_t count)
{
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *name = PyTuple_GET_ITEM(items[k], 0), *value = PyTuple_GET_ITEM(items[k], 1);
        Py_ssize_t n = PyBytes_GET_SIZE(name), m = PyBytes_GET_SIZE(value);
        memcpy(p, PyBytes_AS_STRING(name), (size_t)n);
        p += n;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, PyBytes_AS_STRING(value), (size_t)m);
        p += m;
        *p++ = '\r';
        *p++ = '\n';
    }
    return p;
}

/* response_fields(headers) -> (lines: bytes, content_length: bytes | None,
 *                              has_date: bool, has_server: bool) | None
 * None for anything scan_fields refuses. */
static PyObject *
response_fields(PyObject *self, PyObject *headers)
{
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) {
        Py_RETURN_NONE; /* an iterator must be read once, by the reference */
    }
    PyObject **items = PySequence_Fast_ITEMS(headers);
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers), total;
    PyObject *length;
    int has_date, has_server;
    if (!scan_fields(items, count, &length, &has_date, &has_server, &total)) {
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) {
        return NULL;
    }
    write_fields(PyBytes_AS_STRING(out), items, count);
    return Py_BuildValue("(NOOO)", out, length, has_date ? Py_True : Py_False,
                         has_server ? Py_True : Py_False);
}

/* whole_response(status_line, headers, body, tail) -> bytes | None
 * ~ Connection.send_whole's reference for a response with a body (not HEAD, not 204 or
 * 304): status_line, the header lines, "content-length: <len(body)>\r\n" when the
 * headers have none, tail (date, server, connection and the blank line), then body.
 * None when scan_fields refuses, when the headers carry a Date or a Server (the tail
 * would repeat them) or when their Content-Length is not len(body) (the reference
 * raises, or frames it otherwise). */
static PyObject *
whole_response(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "whole_response takes 4 arguments");
        return NULL;
    }
    PyObject *line = args[0], *headers = args[1], *body = args[2], *tail = args[3];
    if (!PyBytes_CheckExact(line) || !PyBytes_CheckExact(body) || !PyBytes_CheckExact(tail)) {
        Py_RETURN_NONE;
    }
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) {
        Py_RETURN_NONE;
    }
    PyObject **items = PySequence_Fast_ITEMS(headers);
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers), total;
    PyObject *length;
    int has_date, has_server;
    if (!scan_fields(items, count, &length, &has_date, &has_server, &total) || has_date ||
        has_server) {
        Py_RETURN_NONE;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(body);
    char digits[24];
    int ndigits = 0;
    if (length != Py_None) {
        const char *v = PyBytes_AS_STRING(length);
        unsigned long long value = 0; /* at most 19 digits: below 2**64 */
        for (Py_ssize_t j = 0; j < PyBytes_GET_SIZE(length); j++) {
            value = value * 10 + (unsigned long long)(v[j] - '0');
        }
        if (value != (unsigned long long)size) {
            Py_RETURN_NONE;
        }
    }
    else {
        ndigits = snprintf(digits, sizeof digits, "%zd", size);
        total += 18 + ndigits; /* "content-length: " N "\r\n" */
    }
    Py_ssize_t nline = PyBytes_GET_SIZE(line), ntail = PyBytes_GET_SIZE(tail);
    PyObject *out = PyBytes_FromStringAndSize(NULL, nline + total + ntail + size);
    if (out == NULL) {
        return NULL;
    }
    char *p = PyBytes_AS_STRING(out);
    memcpy(p, PyBytes_AS_STRING(line), (size_t)nline);
    p = write_fields(p + nline, items, count);
    if (length == Py_None) {
        memcpy(p, "content-length: ", 16);
        memcpy(p + 16, digits, (size_t)ndigits);
        p += 16 + ndigits;
        *p++ = '\r';
        *p++ = '\n';
    }
    memcpy(p, PyBytes_AS_STRING(tail), (size_t)ntail);
    memcpy(p + ntail, PyBytes_AS_STRING(body), (size_t)size);
    return out;
}

static PyMethodDef methods[] = {
    {"split_lines", split_lines, METH_O, "CRLF lines of a head block, or None to refuse."},
    {"parse_fields", parse_fields, METH_VARARGS, "(headers, special), or None."},
    {"request_line", request_line, METH_O, "(method, target, version), or None."},
    {"request_head", (PyCFunction)(void (*)(void))request_head, METH_FASTCALL,
     "(consumed, method, target, version, headers, special), or None."},
    {"response_fields", response_fields, METH_O, "(lines, length, date?, server?), or None."},
    {"whole_response", (PyCFunction)(void (*)(void))whole_response, METH_FASTCALL,
     "A whole response with a body, Content-Length added when absent; or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_hot", "HTTP/1.1 core hot path in C (accept-only).", -1, methods,
};

PyMODINIT_FUNC
PyInit__hot(void)
{
    static const char *names[6] = {"content-length", "transfer-encoding", "connection",
                                   "host", "expect", "upgrade"};
    init_tables();
    for (int k = 0; k < 6; k++) {
        SPECIAL[k] = PyBytes_FromString(names[k]);
        if (SPECIAL[k] == NULL) {
            return NULL;
        }
    }
    NAME_CL = SPECIAL[0];
    NAME_TE = SPECIAL[1];
    NAME_CONN = SPECIAL[2];
    NAME_DATE = PyBytes_FromString("date");
    NAME_SERVER = PyBytes_FromString("server");
    V10 = PyBytes_FromString("1.0");
    V11 = PyBytes_FromString("1.1");
    if (NAME_DATE == NULL || NAME_SERVER == NULL || V10 == NULL || V11 == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
