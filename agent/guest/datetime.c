/* SetGuestDateTime: the host sets the guest's wall clock (a VM restored from a template, or
 * resumed after a pause, wakes up with the time it was saved at). */
#include "guest.h"

#include <errno.h>
#include <sys/time.h>

int pd_guest_time_check(int64_t sec, int64_t usec, struct pd_error *err)
{
	if (sec < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Sec %lld is before 1970", (long long)sec);
	if (usec < 0 || usec >= 1000000)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Usec %lld is not in 0..999999", (long long)usec);
	if ((int64_t)(time_t)sec != sec)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Sec %lld does not fit the guest's time_t", (long long)sec);
	return 0;
}

int pd_guest_time_set(int64_t sec, int64_t usec, struct pd_error *err)
{
	if (pd_guest_time_check(sec, usec, err) < 0)
		return -1;
	struct timeval tv = {.tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec};
	if (settimeofday(&tv, NULL) < 0)
		return pd_error_errno(err, errno, "settimeofday(%lld.%06lld)", (long long)sec,
				      (long long)usec);
	return 0;
}
