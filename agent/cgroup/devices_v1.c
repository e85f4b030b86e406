/* Device rules on cgroup v1: each rule is one write to devices.allow or devices.deny, in
 * order. The first, "deny a", switches the cgroup to allow-list mode and clears what an
 * earlier apply allowed; an update with rules starts over the same way. */
#include "cgroup_internal.h"

#include <stdio.h>
#include <stdlib.h>

int pd_cg_v1_devices_apply(const char *dir, const struct pd_resources *res, struct pd_error *err)
{
	struct pd_device_rule *rules;
	size_t n;
	if (pd_cg_device_rules(res, &rules, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char text[PD_DEVICE_RULE_TEXT_MAX];
		if (rules[i].type == 'a')
			/* the kernel reads "a" as "every device", whatever follows */
			snprintf(text, sizeof(text), "a");
		else
			pd_device_rule_text(&rules[i], text, sizeof(text));
		rc = pd_cg_command(dir, rules[i].allow ? "devices.allow" : "devices.deny", text,
				   err);
	}
	free(rules);
	return rc;
}
