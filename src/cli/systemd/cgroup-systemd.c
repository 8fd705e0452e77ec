/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth-cgroup-systemd: asks systemd, over D-Bus with libsystemd's sd-bus,
 * for the transient scope a container lives in (the systemd cgroup driver
 * of berth-runtime), and stops it again.
 *
 *   berth-cgroup-systemd start SLICE UNIT PID [NAME=VALUE...]
 *   berth-cgroup-systemd stop UNIT
 *
 * A separate program because berth-runtime is linked static (it copies
 * itself into a memfd for every container, so it stays small and fast) and
 * Debian ships libsystemd only as a shared library; the runtime runs this
 * only with --systemd-cgroup.
 *
 * `start` makes UNIT (a .scope) in SLICE with PID in it and Delegate=yes,
 * so the runtime may write the scope's cgroup files itself; NAME=VALUE are
 * unsigned 64-bit unit properties (MemoryMax, TasksMax, CPUWeight,
 * CPUQuotaPerSecUSec) that systemd should keep applying to the scope. It
 * returns once systemd's job for the unit has finished, and fails when the
 * job did not end "done". The system bus is tried first, then systemd's
 * private socket, which needs no bus daemon.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define PROG    "berth-cgroup-systemd"
#define DEST    "org.freedesktop.systemd1"
#define PATH    "/org/freedesktop/systemd1"
#define MANAGER "org.freedesktop.systemd1.Manager"

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

static int connect_bus(sd_bus **ret)
{
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);

        if (r >= 0) {
                *ret = bus;
                return 0;
        }
        /* No bus daemon: systemd's own socket speaks the same protocol to root. */
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                fprintf(stderr,
                        PROG ": cannot reach systemd (system bus or /run/systemd/private): %s\n",
                        strerror(-r));
                return r;
        }
        *ret = bus;
        return 0;
}

static int append_properties(sd_bus_message *m, const char *slice, uint32_t pid, int nprops,
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
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, pid);
        for (int i = 0; r >= 0 && i < nprops; i++) {
                char *eq = strchr(props[i], '='), *end;
                uint64_t v;
                if (!eq) {
                        fprintf(stderr, PROG ": property `%s`: expected NAME=VALUE\n", props[i]);
                        return -EINVAL;
                }
                *eq = '\0';
                errno = 0;
                v = strtoull(eq + 1, &end, 10);
                if (errno || end == eq + 1 || *end) {
                        fprintf(stderr, PROG ": property %s: `%s` is not a number\n", props[i],
                                eq + 1);
                        return -EINVAL;
                }
                r = sd_bus_message_append(m, "(sv)", props[i], "t", v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int wait_job(sd_bus *bus, struct job_wait *w)
{
        for (int i = 0; !w->done && i < 600; i++) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 50 * 1000);
                if (r < 0)
                        return r;
        }
        return w->done ? 0 : -ETIMEDOUT;
}

static int start_scope(const char *slice, const char *unit, uint32_t pid, int nprops, char **props)
{
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_slot *slot = NULL;
        struct job_wait w = { 0 };
        const char *job = NULL;
        int r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        /* Direct connections get the Manager's signals only after Subscribe. */
        sd_bus_call_method(bus, DEST, PATH, MANAGER, "Subscribe", NULL, NULL, "");
        r = sd_bus_match_signal(bus, &slot, DEST, PATH, MANAGER, "JobRemoved", on_job_removed, &w);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, MANAGER,
                                                   "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = append_properties(m, slice, pid, nprops, props);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r == -EINVAL)
                goto out;
        if (r < 0) {
                fprintf(stderr, PROG ": build the request: %s\n", strerror(-r));
                goto out;
        }
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                fprintf(stderr, PROG ": start %s in %s: %s\n", unit, slice,
                        error.message ? error.message : strerror(-r));
                goto out;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                fprintf(stderr, PROG ": start %s: bad reply: %s\n", unit, strerror(-r));
                goto out;
        }
        w.job = job;
        r = wait_job(bus, &w);
        if (r < 0) {
                fprintf(stderr, PROG ": start %s: waiting for job %s: %s\n", unit, job,
                        strerror(-r));
                goto out;
        }
        if (strcmp(w.result, "done") != 0) {
                fprintf(stderr, PROG ": start %s: job %s\n", unit, w.result);
                r = -EIO;
        }
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        sd_bus_slot_unref(slot);
        sd_bus_flush_close_unref(bus);
        return r;
}

static int stop_unit(const char *unit)
{
        sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus_slot *slot = NULL;
        struct job_wait w = { 0 };
        const char *job = NULL;
        int r;

        r = connect_bus(&bus);
        if (r < 0)
                return r;
        sd_bus_call_method(bus, DEST, PATH, MANAGER, "Subscribe", NULL, NULL, "");
        r = sd_bus_match_signal(bus, &slot, DEST, PATH, MANAGER, "JobRemoved", on_job_removed, &w);
        if (r >= 0)
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "StopUnit", &error, &reply, "ss",
                                       unit, "replace");
        if (r < 0) {
                /* Already gone (its last process exited): nothing to stop. */
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = 0;
                else
                        fprintf(stderr, PROG ": stop %s: %s\n", unit,
                                error.message ? error.message : strerror(-r));
                goto out;
        }
        if (sd_bus_message_read(reply, "o", &job) >= 0) {
                w.job = job;
                r = wait_job(bus, &w);
                if (r < 0)
                        fprintf(stderr, PROG ": stop %s: waiting for job %s: %s\n", unit, job,
                                strerror(-r));
        }
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_slot_unref(slot);
        sd_bus_flush_close_unref(bus);
        return r;
}

int main(int argc, char **argv)
{
        if (argc >= 5 && strcmp(argv[1], "start") == 0) {
                char *end;
                unsigned long pid = strtoul(argv[4], &end, 10);
                if (*end || !pid || pid > UINT32_MAX) {
                        fprintf(stderr, PROG ": `%s` is not a pid\n", argv[4]);
                        return 2;
                }
                return start_scope(argv[2], argv[3], (uint32_t)pid, argc - 5, argv + 5) < 0;
        }
        if (argc == 3 && strcmp(argv[1], "stop") == 0)
                return stop_unit(argv[2]) < 0;
        fprintf(stderr, "usage: " PROG " start SLICE UNIT PID [NAME=VALUE...]\n"
                        "       " PROG " stop UNIT\n");
        return 2;
}
