/* MemAgentMemcgSet / MemAgentCompactSet: the settings of Kata's mem-agent, a background
 * loop in the Kata agent that reclaims cold memory of cgroups through MGLRU and compacts
 * free memory so the host can take it back (free page reporting).
 *
 * pidone runs no such loop. What maps onto a knob of the guest kernel is applied:
 *   memcg   disabled=false  MGLRU on, all components: <sysfs>/kernel/mm/lru_gen/enabled = 7
 *                           (what Kata's mem-agent checks and sets before it starts)
 *   compact disabled        the kernel's own proactive compaction:
 *                           <procfs>/sys/vm/compaction_proactiveness = 0, or 20 (its default)
 * Every other field is checked and kept, so a later loop, or the metrics, can use
 * it. A request that sets a field whose knob this kernel lacks fails with
 * FAILED_PRECONDITION and changes nothing; fields not set are not looked at (proto3
 * `optional`: absent is not zero). */
#include "guest.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>


#define LRU_GEN_ENABLED "/kernel/mm/lru_gen/enabled"
#define LRU_GEN_ALL     7 /* the three MGLRU components (0x0007) */
#define PROACTIVENESS   "/sys/vm/compaction_proactiveness"
#define PERCENT_MAX     100
#define SWAPPINESS_MAX  200 /* the kernel's own limit */
#define ORDER_MAX       255 /* Kata keeps the order in a u8 */

void pd_memagent_init(struct pd_memagent *ma)
{
	/* Kata's mem-agent defaults (src/libs/mem-agent: memcg.rs, compact.rs). */
	ma->memcg = (struct pd_memcg_config){
		.disabled = false,
		.swap = false,
		.swappiness_max = 50,
		.period_secs = 600,
		.period_psi_percent_limit = 1,
		.eviction_psi_percent_limit = 1,
		.eviction_run_aging_count_min = 3,
	};
	ma->compact = (struct pd_compact_config){
		.disabled = false,
		.period_secs = 600,
		.period_psi_percent_limit = 1,
		.compact_psi_percent_limit = 5,
		.compact_sec_max = 300,
		.compact_order = 9,
		.compact_threshold = 2 << 9,
		.compact_force_times = INT64_MAX,
	};
}

static int check_max(unsigned set, unsigned bit, uint64_t v, uint64_t max, const char *name,
		     struct pd_error *err)
{
	if ((set & bit) && v > max)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s %llu is more than %llu", name,
				    (unsigned long long)v, (unsigned long long)max);
	return 0;
}

static int check_period(unsigned set, unsigned bit, uint64_t v, struct pd_error *err)
{
	if ((set & bit) && v == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "period_secs must be > 0");
	return 0;
}

/* lru_gen/enabled reads "0x0007"; writing a number sets the components. */
static int mglru_enable(const char *sysfs, struct pd_error *err)
{
	char path[PATH_MAX], text[32];
	if (pd_kpath(path, sizeof(path), err, sysfs, LRU_GEN_ENABLED) < 0)
		return -1;
	if (pd_kfile_read(path, text, sizeof(text), err) < 0) {
		if (err && err->errnum == ENOENT)
			return pd_error_set(err, PD_FAILED_PRECONDITION, ENOENT,
					    "memcg eviction needs MGLRU, and this guest kernel has "
					    "none (%s: CONFIG_LRU_GEN)", path);
		return -1;
	}
	if (strtoul(text, NULL, 0) == LRU_GEN_ALL)
		return 0;
	return pd_kfile_write(path, "7", err);
}

int pd_memagent_memcg_set(struct pd_memagent *ma, const struct pd_memcg_config *v, unsigned set,
			  const char *sysfs, struct pd_error *err)
{
	if (check_max(set, PD_MEMCG_SWAPPINESS_MAX, v->swappiness_max, SWAPPINESS_MAX,
		      "swappiness_max", err) < 0 ||
	    check_max(set, PD_MEMCG_PERIOD_PSI, v->period_psi_percent_limit, PERCENT_MAX,
		      "period_psi_percent_limit", err) < 0 ||
	    check_max(set, PD_MEMCG_EVICTION_PSI, v->eviction_psi_percent_limit, PERCENT_MAX,
		      "eviction_psi_percent_limit", err) < 0 ||
	    check_period(set, PD_MEMCG_PERIOD_SECS, v->period_secs, err) < 0)
		return pd_error_wrap(err, "MemAgentMemcgSet");
	if ((set & PD_MEMCG_DISABLED) && !v->disabled && mglru_enable(sysfs, err) < 0)
		return pd_error_wrap(err, "MemAgentMemcgSet");
	struct pd_memcg_config *m = &ma->memcg;
	if (set & PD_MEMCG_DISABLED)
		m->disabled = v->disabled;
	if (set & PD_MEMCG_SWAP)
		m->swap = v->swap;
	if (set & PD_MEMCG_SWAPPINESS_MAX)
		m->swappiness_max = v->swappiness_max;
	if (set & PD_MEMCG_PERIOD_SECS)
		m->period_secs = v->period_secs;
	if (set & PD_MEMCG_PERIOD_PSI)
		m->period_psi_percent_limit = v->period_psi_percent_limit;
	if (set & PD_MEMCG_EVICTION_PSI)
		m->eviction_psi_percent_limit = v->eviction_psi_percent_limit;
	if (set & PD_MEMCG_AGING_COUNT_MIN)
		m->eviction_run_aging_count_min = v->eviction_run_aging_count_min;
	return 0;
}

static int proactiveness_set(const char *procfs, bool disabled, struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_kpath(path, sizeof(path), err, procfs, PROACTIVENESS) < 0)
		return -1;
	if (!pd_kfile_exists(path))
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOENT,
				    "this guest kernel has no proactive compaction (%s: "
				    "CONFIG_COMPACTION, Linux 5.9+)", path);
	return pd_kfile_write(path, disabled ? "0" : PD_COMPACTION_PROACTIVENESS_ON, err);
}

int pd_memagent_compact_set(struct pd_memagent *ma, const struct pd_compact_config *v,
			    unsigned set, const char *procfs, struct pd_error *err)
{
	if (check_max(set, PD_COMPACT_PERIOD_PSI, v->period_psi_percent_limit, PERCENT_MAX,
		      "period_psi_percent_limit", err) < 0 ||
	    check_max(set, PD_COMPACT_PSI, v->compact_psi_percent_limit, PERCENT_MAX,
		      "compact_psi_percent_limit", err) < 0 ||
	    check_max(set, PD_COMPACT_ORDER, v->compact_order, ORDER_MAX, "compact_order",
		      err) < 0 ||
	    check_period(set, PD_COMPACT_PERIOD_SECS, v->period_secs, err) < 0)
		return pd_error_wrap(err, "MemAgentCompactSet");
	if ((set & PD_COMPACT_SEC_MAX) && v->compact_sec_max < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "MemAgentCompactSet: compact_sec_max %lld is negative",
				    (long long)v->compact_sec_max);
	if ((set & PD_COMPACT_DISABLED) && proactiveness_set(procfs, v->disabled, err) < 0)
		return pd_error_wrap(err, "MemAgentCompactSet");
	struct pd_compact_config *c = &ma->compact;
	if (set & PD_COMPACT_DISABLED)
		c->disabled = v->disabled;
	if (set & PD_COMPACT_PERIOD_SECS)
		c->period_secs = v->period_secs;
	if (set & PD_COMPACT_PERIOD_PSI)
		c->period_psi_percent_limit = v->period_psi_percent_limit;
	if (set & PD_COMPACT_PSI)
		c->compact_psi_percent_limit = v->compact_psi_percent_limit;
	if (set & PD_COMPACT_SEC_MAX)
		c->compact_sec_max = v->compact_sec_max;
	if (set & PD_COMPACT_ORDER)
		c->compact_order = v->compact_order;
	if (set & PD_COMPACT_THRESHOLD)
		c->compact_threshold = v->compact_threshold;
	if (set & PD_COMPACT_FORCE_TIMES)
		c->compact_force_times = v->compact_force_times;
	return 0;
}
