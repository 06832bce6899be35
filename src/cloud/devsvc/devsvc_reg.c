/* imago_devsvc: registration of a device to the user of a registration token (see devsvc.h). */
#include "cloud/devsvc/devsvc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/wipe.h"
#include "cloud/appdb/appdb.h"
#include "regtoken/regtoken.h"
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The replay store of one registration: the nonce is claimed for this device. */
struct devsvc_claim {
        struct imago_appdb *db;
        const char *device;
        int again; /* claimed before by the same device */
};

static int devsvc_claim(void *arg, const char *nonce, int64_t expiry)
{
        struct devsvc_claim *c = arg;

        return imago_appdb_claim_nonce_dev(c->db, nonce, expiry, c->device, &c->again);
}

/*
 * Redeem the token and bind; *user gets the user's id when known.  The same device sending the
 * same token again (its answer was lost) gets ok while it is still bound to that user; any other
 * reuse is a replay (IMAGO_EEXIST), also by the same device once it was unbound.
 */
static int devsvc_redeem_bind(struct imago_devsvc *ds, const char *device, const char *token,
                              uint64_t *user)
{
        struct devsvc_claim claim = {ds->c.db, device, 0};
        struct imago_regtoken_replay replay = {devsvc_claim, &claim};
        char name[IMAGO_REGTOKEN_USER_MAX + 1];
        struct imago_appdb_user u;
        int64_t now = imago_devsvc_now(ds);
        uint64_t bound = 0;
        int r;

        memset(&u, 0, sizeof(u));
        *user = 0;
        if ((r = imago_regtoken_redeem(ds->c.regkey, token, strlen(token), now, &replay, name,
                                       sizeof(name))) != 0)
                goto out;
        if ((r = imago_appdb_user_by_name(ds->c.db, name, &u)) != 0)
                goto out;
        *user = u.id;
        if (claim.again) {
                if ((r = imago_appdb_owner(ds->c.db, device, &bound)) == 0 && bound != u.id)
                        r = IMAGO_EEXIST;
                goto out;
        }
        r = imago_appdb_bind(ds->c.db, device, u.id, now);
out:
        imago_wipe(&u, sizeof(u));
        imago_wipe(name, sizeof(name));
        return r;
}

void imago_devsvc_on_register(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                              size_t len)
{
        struct imago_state_msg m, ans;
        char actor[IMAGO_DEVICE_ID_LEN + 8], *text = NULL;
        const char *result;
        uint64_t user = 0;
        size_t tlen = 0;
        json_t *detail;
        int r;

        memset(&ans, 0, sizeof(ans));
        if ((r = imago_state_msg_parse(IMAGO_STATE_MSG_REGISTER, buf, len, &m)) != 0) {
                IMAGO_INFO("dropped a registration request of %s: %s", device, imago_errname(r));
                goto out;
        }
        r = devsvc_redeem_bind(ds, device, m.token, &user);
        result = r == 0 ? "ok" : imago_errname(r);
        if (r != 0)
                IMAGO_INFO("registration of %s refused: %s", device, result);
        snprintf(actor, sizeof(actor), "device:%s", device);
        detail = user != 0 ? json_pack("{s:s, s:I}", "result", result, "user", (json_int_t)user)
                           : json_pack("{s:s}", "result", result);
        (void)imago_devsvc_audit(ds, actor, "device.register", device, detail);
        ans.type = IMAGO_STATE_MSG_REGISTERED;
        memcpy(ans.nonce, m.nonce, sizeof(ans.nonce));
        snprintf(ans.result, sizeof(ans.result), "%s", result);
        if ((r = imago_state_msg_build(&ans, &text, &tlen)) != 0 ||
            (r = imago_devsvc_publish(ds, device, IMAGO_STATE_T_REGISTERED, text, tlen)) != 0)
                IMAGO_WARN("registration answer to %s not sent: %s", device, imago_errname(r));
out:
        free(text);
        imago_state_msg_free(&m);
}
