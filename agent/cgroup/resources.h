/* A container's resource limits as the cgroup engine sees them: the OCI LinuxResources of a
 * CreateContainer or UpdateContainer, converted and checked in agent/rpc/resources.c, never
 * a protobuf type.
 *
 * Every scalar has a has_* flag: false = leave the cgroup file as it is (the kernel default
 * at create, the current value at update). The Kata wire format (proto3) cannot tell 0 from
 * "not given", so the converter sets has_* only for non-zero values, as the Kata agent does.
 * -1 means "unlimited" wherever a limit can be unlimited ("max" on v2).
 *
 * Arrays point into memory owned by the caller (the converter's arena); the engine copies
 * nothing it keeps. */
#ifndef PD_CGROUP_RESOURCES_H
#define PD_CGROUP_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PD_DEV_ANY (-1) /* a device rule's major or minor that matches every number */

/* One device cgroup rule: "c 1:3 rwm" allowed or denied. */
struct pd_device_rule {
	bool allow;
	char type;	/* 'a' (all), 'c', 'b' */
	int64_t major;	/* PD_DEV_ANY or 0..0x7fffffff */
	int64_t minor;	/* PD_DEV_ANY or 0..0x7fffffff */
	char access[4]; /* non-empty subset of "rwm", in that order */
};

struct pd_blkio_weight_dev {
	int64_t major, minor;
	uint16_t weight;      /* 10..1000, 0 = not set */
	uint16_t leaf_weight; /* 10..1000, 0 = not set (v1 only) */
};

struct pd_blkio_throttle_dev {
	int64_t major, minor;
	uint64_t rate; /* bytes or operations per second; 0 = remove the limit */
};

enum pd_throttle_kind {
	PD_THROTTLE_READ_BPS,
	PD_THROTTLE_WRITE_BPS,
	PD_THROTTLE_READ_IOPS,
	PD_THROTTLE_WRITE_IOPS,
	PD_THROTTLE_KINDS,
};

struct pd_hugetlb_limit {
	char pagesize[16]; /* "2MB", "1GB", "64KB": the name in hugetlb.<size>.* */
	uint64_t limit;	   /* bytes */
};

struct pd_net_prio {
	char name[16]; /* interface name (IFNAMSIZ) */
	uint32_t priority;
};

struct pd_resources {
	/* memory */
	bool has_mem_limit, has_mem_reservation, has_mem_swap, has_swappiness;
	int64_t mem_limit;	 /* bytes, -1 = unlimited */
	int64_t mem_reservation; /* bytes, -1 = none (soft limit / memory.low) */
	int64_t mem_swap;	 /* memory + swap (v1 memsw semantics), -1 = unlimited */
	uint64_t swappiness;	 /* 0..100 */
	bool disable_oom_killer;

	/* cpu */
	bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_rt_runtime, has_rt_period;
	uint64_t cpu_shares;	 /* 2..262144 (v2: converted to cpu.weight) */
	int64_t cpu_quota;	 /* microseconds per period, -1 = unlimited */
	uint64_t cpu_period;	 /* microseconds */
	int64_t rt_runtime;	 /* microseconds, -1 = unlimited (v1 only) */
	uint64_t rt_period;	 /* microseconds (v1 only) */
	const char *cpuset_cpus; /* NULL = leave; "0-3,5" */
	const char *cpuset_mems;

	/* pids */
	bool has_pids_limit;
	int64_t pids_limit; /* -1 = unlimited */

	/* block io */
	bool has_blkio_weight, has_blkio_leaf_weight;
	uint16_t blkio_weight;	    /* 10..1000 (v2: converted to io.weight 1..10000) */
	uint16_t blkio_leaf_weight; /* 10..1000, v1 only */
	const struct pd_blkio_weight_dev *weight_devs;
	size_t n_weight_devs;
	const struct pd_blkio_throttle_dev *throttle[PD_THROTTLE_KINDS];
	size_t n_throttle[PD_THROTTLE_KINDS];

	/* hugetlb */
	const struct pd_hugetlb_limit *hugetlb;
	size_t n_hugetlb;

	/* network (v1 net_cls / net_prio only) */
	bool has_net_classid;
	uint32_t net_classid;
	const struct pd_net_prio *net_prios;
	size_t n_net_prios;

	/* devices: applied as "deny everything, then these rules in order, then pidone's
	 * defaults" (cgroup.h). has_devices false on an update = keep the current rules. */
	bool has_devices;
	const struct pd_device_rule *devices;
	size_t n_devices;
};

/* Limits on what one request may ask for. */
#define PD_MAX_DEVICE_RULES  1024
#define PD_MAX_BLKIO_DEVS    256 /* per list */
#define PD_MAX_HUGETLB_SIZES 16
#define PD_MAX_NET_PRIOS     256

/* "c 1:3 rwm" / "a *:* rwm" (the v1 devices.allow syntax; also used in logs). buf >= 48. */
#define PD_DEVICE_RULE_TEXT_MAX 48
void pd_device_rule_text(const struct pd_device_rule *r, char *buf, size_t size);

#endif
