/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth-cgroup-systemd: asks systemd, over D-Bus with libsystemd's sd-bus,
 * for the transient scope a container lives in (the systemd cgroup driver
 * of berth-runtime), changes its properties and stops it again.
 *
 *   berth-cgroup-systemd start SLICE UNIT PID [NAME=VALUE...]
 *   berth-cgroup-systemd set UNIT NAME=VALUE...
 *   berth-cgroup-systemd stop UNIT
 *
 * A separate program because berth-runtime is linked static (it copies
 * itself into a memfd for every container, so it stays small and fast) and
 * Debian ships libsystemd only as a shared library; the runtime runs this
 * only with --systemd-cgroup.
 *
 * `start` makes UNIT (a .scope) in SLICE with PID in it and Delegate=yes,
 * so the runtime may write the scope's cgroup files itself; NAME=VALUE are
 * the resource properties systemd should keep on the scope (it writes them
 * to the scope's files again at every daemon-reload, and its defaults for
 * those it was not given), from the table below. It returns once systemd's
 * job for the unit has finished, and fails when the job did not end "done".
 * `set` changes such properties of a running unit, `stop` stops it and
 * waits for that; a unit that is already gone is not an error.
 *
 * Like systemctl, root talks to systemd's private socket
 * (/run/systemd/private, no bus daemon needed); anyone else, or root
 * where that socket is missing, uses the system bus.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define PROG    "berth-cgroup-systemd"
#define DEST    "org.freedesktop.systemd1"
#define PATH    "/org/freedesktop/systemd1"
#define MANAGER "org.freedesktop.systemd1.Manager"

/* How long systemd may take over a job (runc allows 30 seconds too). */
#define JOB_TIMEOUT_USEC (30ULL * 1000 * 1000)
/* AllowedCPUs/AllowedMemoryNodes: CPUs 0..8191 at most. */
#define MAX_MASK_BYTES 1024

#define _cleanup_(f) __attribute__((cleanup(f)))

/* The unit properties `start` and `set` take: 't' an unsigned 64-bit
 * number or "infinity", 'm' a list like "0-3,8" sent as a bit mask ("ay"). */
static const struct {
        const char *name;
        char type;
} properties[] = {
        { "MemoryMax", 't' },          { "MemoryLimit", 't' },        { "MemoryHigh", 't' },
        { "MemoryLow", 't' },          { "MemoryMin", 't' },          { "MemorySwapMax", 't' },
        { "TasksMax", 't' },           { "CPUWeight", 't' },          { "CPUShares", 't' },
        { "CPUQuotaPerSecUSec", 't' }, { "CPUQuotaPeriodUSec", 't' }, { "IOWeight", 't' },
        { "AllowedCPUs", 'm' },        { "AllowedMemoryNodes", 'm' },
};

struct job_wait {
        const char *job; /* object path of the job we wait for */
        char result[64]; /* set when it is removed */
        bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        const char *path = NULL, *unit = NULL, *result = NULL;
        uint32_t id;

        (void)ret_error;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && path && strcmp(path, w->job) == 0) {
                snprintf(w->result, sizeof(w->result), "%s", result ? result : "");
                w->done = true;
        }
        return 0;
}

static int connect_private(sd_bus **ret)
{
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = bus;
        bus = NULL;
        return 0;
}

static int connect_bus(sd_bus **ret)
{
        int r = -ENOENT, rp = 0;

        if (geteuid() == 0) {
                rp = connect_private(ret);
                if (rp >= 0)
                        return 0;
        }
        r = sd_bus_open_system(ret);
        if (r >= 0)
                return 0;
        if (rp < 0)
                fprintf(stderr,
                        PROG ": cannot reach systemd: /run/systemd/private: %s; system bus: %s\n",
                        strerror(-rp), strerror(-r));
        else
                fprintf(stderr, PROG ": cannot reach systemd on the system bus: %s\n",
                        strerror(-r));
        return r;
}

/* From here on w sees the Manager's JobRemoved signals. systemd sends its
 * signals to a client only once it has called Subscribe. */
static int subscribe(sd_bus *bus, struct job_wait *w, sd_bus_slot **ret_slot)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_match_signal(bus, ret_slot, DEST, PATH, MANAGER, "JobRemoved", on_job_removed,
                                w);
        if (r >= 0)
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "Subscribe", &error, NULL, "");
        if (r < 0)
                fprintf(stderr, PROG ": subscribe to systemd's signals: %s\n",
                        error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits for the JobRemoved of w->job (already queued ones included). */
static int wait_job(sd_bus *bus, struct job_wait *w)
{
        uint64_t deadline = now_usec() + JOB_TIMEOUT_USEC;

        while (!w->done) {
                uint64_t now;
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                now = now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR)
                        return r;
        }
        return 0;
}

/* "0-3,8" -> bit mask, byte i holding CPUs 8i..8i+7 (systemd's layout). */
static int parse_mask(const char *s, uint8_t *mask, size_t *ret_len)
{
        size_t len = 0;

        memset(mask, 0, MAX_MASK_BYTES);
        while (*s) {
                unsigned long a, b;
                char *end;
                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                errno = 0;
                a = b = strtoul(s, &end, 10);
                if (*end == '-') {
                        s = end + 1;
                        if (!isdigit((unsigned char)*s))
                                return -EINVAL;
                        b = strtoul(s, &end, 10);
                }
                if (errno || b < a)
                        return -EINVAL;
                if (b >= MAX_MASK_BYTES * 8)
                        return -ERANGE;
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t)(1u << (i % 8));
                if (b / 8 + 1 > len)
                        len = b / 8 + 1;
                if (*end == ',' && end[1])
                        end++;
                else if (*end)
                        return -EINVAL;
                s = end;
        }
        *ret_len = len;
        return 0;
}

/* Appends "NAME=VALUE" as one (sv) of the properties array. */
static int append_property(sd_bus_message *m, char *prop)
{
        char *eq = strchr(prop, '='), *end;
        const char *value;
        char type = 0;
        uint64_t v;
        int r;

        if (!eq) {
                fprintf(stderr, PROG ": property `%s`: expected NAME=VALUE\n", prop);
                return -EINVAL;
        }
        *eq = '\0';
        value = eq + 1;
        for (size_t i = 0; i < sizeof(properties) / sizeof(properties[0]); i++)
                if (strcmp(properties[i].name, prop) == 0)
                        type = properties[i].type;
        if (!type) {
                fprintf(stderr, PROG ": property %s: not one this program sets\n", prop);
                return -EINVAL;
        }
        if (type == 'm') {
                uint8_t mask[MAX_MASK_BYTES];
                size_t len = 0;
                r = parse_mask(value, mask, &len);
                if (r < 0) {
                        fprintf(stderr, PROG ": property %s: `%s` is not a list like 0-3,8\n", prop,
                                value);
                        return -EINVAL;
                }
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", prop);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', mask, len);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        }
        if (strcmp(value, "infinity") == 0)
                return sd_bus_message_append(m, "(sv)", prop, "t", UINT64_MAX);
        if (!isdigit((unsigned char)*value)) {
                fprintf(stderr, PROG ": property %s: `%s` is not a number\n", prop, value);
                return -EINVAL;
        }
        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno || *end) {
                fprintf(stderr, PROG ": property %s: `%s` is not a number\n", prop, value);
                return -EINVAL;
        }
        return sd_bus_message_append(m, "(sv)", prop, "t", v);
}

static int append_properties(sd_bus_message *m, int nprops, char **props)
{
        int r = 0;

        for (int i = 0; r >= 0 && i < nprops; i++)
                r = append_property(m, props[i]);
        return r;
}

/* The scope's own properties, then the caller's. */
static int append_scope(sd_bus_message *m, const char *slice, uint32_t pid, int nprops,
                        char **props)
{
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Description", "s",
                                          "berth container (transient scope)");
        if (r >= 0 && slice && *slice)
                r = sd_bus_message_append(m, "(sv)", "Slice", "s", slice);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "DefaultDependencies", "b", 0);
        /* A scope that failed would stay loaded and its name taken. */
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, pid);
        if (r >= 0)
                r = append_properties(m, nprops, props);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static void report(const char *what, const char *unit, const sd_bus_error *error, int r)
{
        fprintf(stderr, PROG ": %s %s: %s\n", what, unit,
                error && error->message ? error->message : strerror(-r));
}

static int start_scope(const char *slice, const char *unit, uint32_t pid, int nprops, char **props)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct job_wait w = { 0 };
        const char *job = NULL;
        int r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = subscribe(bus, &w, &slot);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = append_scope(m, slice, pid, nprops, props);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r == -EINVAL)
                return r; /* a bad property, reported */
        if (r < 0) {
                report("build the request to start", unit, NULL, r);
                return r;
        }
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                report("start", unit, &error, r);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                report("read systemd's reply to starting", unit, NULL, r);
                return r;
        }
        w.job = job;
        r = wait_job(bus, &w);
        if (r < 0) {
                fprintf(stderr, PROG ": start %s: waiting for job %s: %s\n", unit, job,
                        strerror(-r));
                return r;
        }
        if (strcmp(w.result, "done") != 0) {
                fprintf(stderr, PROG ": start %s in %s: the job's result is `%s`\n", unit, slice,
                        w.result);
                return -EIO;
        }
        return 0;
}

static int set_properties(const char *unit, int nprops, char **props)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, MANAGER, "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", unit, 1); /* runtime: until reboot */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_properties(m, nprops, props);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r == -EINVAL)
                return r;
        if (r < 0) {
                report("build the request to set properties of", unit, NULL, r);
                return r;
        }
        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                report("set properties of", unit, &error, r);
        return r;
}

static int stop_unit(const char *unit)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct job_wait w = { 0 };
        const char *job = NULL;
        int r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        r = subscribe(bus, &w, &slot);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "StopUnit", &error, &reply, "ss", unit,
                               "replace");
        if (r < 0) {
                /* Already gone (its last process exited): nothing to stop. */
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        return 0;
                report("stop", unit, &error, r);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                report("read systemd's reply to stopping", unit, NULL, r);
                return r;
        }
        w.job = job;
        r = wait_job(bus, &w);
        if (r < 0) {
                fprintf(stderr, PROG ": stop %s: waiting for job %s: %s\n", unit, job,
                        strerror(-r));
                return r;
        }
        if (strcmp(w.result, "done") != 0) {
                fprintf(stderr, PROG ": stop %s: the job's result is `%s`\n", unit, w.result);
                return -EIO;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 5 && strcmp(argv[1], "start") == 0) {
                char *end;
                unsigned long pid;
                errno = 0;
                pid = strtoul(argv[4], &end, 10);
                if (errno || end == argv[4] || *end || !pid || pid > INT32_MAX) {
                        fprintf(stderr, PROG ": `%s` is not a pid\n", argv[4]);
                        return 2;
                }
                return start_scope(argv[2], argv[3], (uint32_t)pid, argc - 5, argv + 5) < 0;
        }
        if (argc >= 4 && strcmp(argv[1], "set") == 0)
                return set_properties(argv[2], argc - 3, argv + 3) < 0;
        if (argc == 3 && strcmp(argv[1], "stop") == 0)
                return stop_unit(argv[2]) < 0;
        fprintf(stderr, "usage: " PROG " start SLICE UNIT PID [NAME=VALUE...]\n"
                        "       " PROG " set UNIT NAME=VALUE...\n"
                        "       " PROG " stop UNIT\n");
        return 2;
}
