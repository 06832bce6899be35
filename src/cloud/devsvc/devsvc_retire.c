/* imago_devsvc: decommissioning a device (see devsvc.h). */
#include "cloud/devsvc/devsvc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "cloud/appdb/appdb.h"
#include "cloud/registry/registry.h"

#include <string.h>

int imago_devsvc_retire(struct imago_devsvc *ds, const char *device, uint64_t actor)
{
        struct imago_reg_device d;
        enum imago_reg_state was;
        uint64_t owner = 0;
        char who[32];
        int r = IMAGO_EINVAL;

        memset(&d, 0, sizeof(d));
        if (ds == NULL || !imago_device_id_valid(device) || actor == 0)
                goto out;
        if ((r = imago_registry_get(ds->c.reg, device, &d)) != 0)
                goto out;
        was = d.state;
        /* Revoke first: once it is done the device can no longer act, whatever fails next. */
        if (was != IMAGO_REG_REVOKED &&
            (r = ds->ops.revoke(ds->ops.arg, device, "decommissioned")) != 0) {
                IMAGO_ERR_R(r, "revoking %s", device);
                goto out;
        }
        if ((r = imago_appdb_owner(ds->c.db, device, &owner)) != 0 ||
            (r = imago_appdb_unbind(ds->c.db, device)) != 0 ||
            (r = imago_appdb_state_clear(ds->c.db, device)) != 0)
                goto out;
        imago_devsvc_user_actor(actor, who, sizeof(who));
        r = imago_devsvc_audit(
            ds, who, "device.decommission", device,
            json_pack("{s:s, s:I}", "was", imago_reg_state_name(was), "owner", (json_int_t)owner));
out:
        imago_registry_device_free(&d);
        return r;
}
