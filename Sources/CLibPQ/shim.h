#ifndef REFERRAL_SYNC_CLIBPQ_SHIM_H
#define REFERRAL_SYNC_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
