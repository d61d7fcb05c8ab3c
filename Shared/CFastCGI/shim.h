#ifndef SIGNALBRIDGE_CFASTCGI_SHIM_H
#define SIGNALBRIDGE_CFASTCGI_SHIM_H
/* libfcgi (apt: libfcgi-dev). FCGX_FPrintF is variadic and not imported: use FCGX_PutStr. */
#include <fcgiapp.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Taking waiting requests together (FunctionRuntime's grouped mode): the process accepts connections itself, from
 * a non-blocking listening socket, and hands each to FCGX_Accept_r as an open connection. */

/* SIGTERM and SIGUSR1 blocked in the calling thread (and every thread it starts) and readable on the returned
 * descriptor instead, so a shutdown request is seen between groups, never in the middle of one. -1 on error. */
static inline int sbfcgi_shutdown_signal_fd(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) return -1;
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* An epoll set watching the listening socket (made non-blocking; EPOLLEXCLUSIVE: a connection wakes one of the
 * processes sharing the socket, not all of them) and the shutdown descriptor. -1 on error. */
static inline int sbfcgi_watch(int listen_fd, int signal_fd) {
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) return -1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -1;
    struct epoll_event listen_event = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data = { .u64 = 1 } };
    struct epoll_event signal_event = { .events = EPOLLIN, .data = { .u64 = 2 } };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, signal_fd, &signal_event) != 0) {
        close(ep);
        return -1;
    }
    return ep;
}

/* Connections nginx keeps open (fastcgi_keep_conn) are watched too, level-triggered: readable means its next request
 * (or nginx closing it). Registers one; 0, or -1 with errno (EEXIST: already watched). */
static inline int sbfcgi_watch_kept(int ep, int fd) {
    struct epoll_event event = { .events = EPOLLIN, .data = { .u64 = ((uint64_t)1 << 32) | (uint32_t)fd } };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
}

/* Waits (at most timeout_ms; -1: no limit) for a new connection, a kept connection's next request or a shutdown
 * signal. Returns how many kept connections are readable (their descriptors in ready, at most max), or -1 on error;
 * *flags gets 1 when a new connection waits, 2 when shutdown was requested. Interrupted: 0 and no flags. */
static inline int sbfcgi_wait_ready(int ep, int timeout_ms, int *ready, int max, int *flags) {
    struct epoll_event events[64];
    *flags = 0;
    int n = epoll_wait(ep, events, max + 2 < 64 ? max + 2 : 64, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    int count = 0;
    for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        if (tag == 1) *flags |= 1;
        else if (tag == 2) *flags |= 2;
        else if (count < max) ready[count++] = (int)(uint32_t)tag;
    }
    return count;
}

/* What a kept connection holds, without blocking: 1 the start of a request, 0 nothing (nginx closed it, or an
 * error: close it), 2 nothing yet. */
static inline int sbfcgi_kept_state(int fd) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 2;
    return 0;
}

/* Reads what is left of a request's input (its end-of-stdin record) so the kept connection's next request starts
 * clean. */
static inline void sbfcgi_drain_input(FCGX_Request *request) {
    char buffer[1024];
    while (request->in && FCGX_GetStr(buffer, sizeof buffer, request->in) > 0) {}
}

/* Whether the listening socket is TCP (its connections then get TCP_NODELAY). */
static inline int sbfcgi_is_tcp(int listen_fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    return getsockname(listen_fd, (struct sockaddr *)&address, &length) == 0 &&
           (address.ss_family == AF_INET || address.ss_family == AF_INET6);
}

/* A waiting connection, without blocking: its descriptor, or -1 (errno EAGAIN: none waiting). TCP connections get
 * TCP_NODELAY, as libfcgi's own accept gives them (and, like libfcgi's, no close-on-exec: nothing here execs). */
static inline int sbfcgi_accept(int listen_fd, int tcp) {
    int fd = accept(listen_fd, NULL, NULL);
    if (fd >= 0 && tcp) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Hands an accepted connection to a request slot: FCGX_Accept_r then reads the request from it (it first finishes the
 * slot's previous request, which must not close the new descriptor: hence keepConnection until it reads the begin
 * record, which sets the flag from nginx's request). */
static inline void sbfcgi_adopt(FCGX_Request *request, int fd) {
    request->ipcFd = fd;
    request->keepConnection = 1;
}

/* Finishes a request without closing its connection (libfcgi's own close waits for nginx to close its side, after
 * each response in turn): returns the open connection for sbfcgi_close, or -1 when libfcgi closed it (an error). */
static inline int sbfcgi_finish_open(FCGX_Request *request) {
    request->keepConnection = 1;
    FCGX_Finish_r(request);
    int fd = request->ipcFd;
    request->ipcFd = -1;
    return fd;
}

/* Closes a connection finished with sbfcgi_finish_open. nginx sends nothing after a request's end of stdin, so when
 * nothing is left unread the connection is closed at once (nothing to answer with a reset); otherwise (a body the
 * handler did not read) libfcgi's graceful close: half-close, read until nginx closes its side (at most 2 s). */
static inline void sbfcgi_close(int fd) {
    char trash[1024];
    if (recv(fd, trash, sizeof trash, MSG_DONTWAIT) > 0 && shutdown(fd, SHUT_WR) == 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        while (poll(&p, 1, 2000) > 0 && read(fd, trash, sizeof trash) > 0) {}
    }
    close(fd);
}
#endif
