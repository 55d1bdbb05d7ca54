// SPDX-License-Identifier: GPL-2.0
/* Service and real texts, requests and the daemon round trip shared by the commands. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cmd.h"
#include "xlvsctl.h"

bool xlvs_svc_matches(const struct xlvs_svc_key *k, const struct xlvs_endpoint *ep)
{
	size_t len = ep->addr.family == XLVS_AF_INET ? 4 : 16;

	return k->family == ep->addr.family && !memcmp(k->addr, ep->addr.be, len) &&
	       ntohs(k->port) == ep->port && (!ep->proto || k->proto == ep->proto);
}

/* bpf/persist.h persist_key(): the client's address cut to the service's prefix length. */
void xlvs_tpl_key(const struct xlvs_flow *f, const struct xlvs_service *svc, struct xlvs_svc_addr_key *k)
{
	int i, bits;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < 4; i++) {
		bits = svc->persist_plen - 32 * i;
		k->addr[i] = bits >= 32	 ? f->src[i]
			     : bits <= 0 ? 0
					 : f->src[i] & htonl(~(UINT32_MAX >> bits));
	}
	k->svc_id = svc->id;
	k->family = f->family;
}

const char *xlvs_svc_text(const struct xlvs_endpoint *ep, char *buf, size_t size)
{
	char eb[XLVS_EPSTRLEN], pb[8];

	xlvs_ep_text(&ep->addr, ep->port, eb, sizeof(eb));
	if (ep->proto)
		snprintf(buf, size, "%s %s", xlvs_proto_text(ep->proto, pb, sizeof(pb)), eb);
	else
		snprintf(buf, size, "%s (any protocol)", eb);
	return buf;
}

json_t *xlvs_svc_json(const struct xlvs_endpoint *ep)
{
	char ab[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:i, s:s}", "vip", xlvs_addr_text(&ep->addr, ab, sizeof(ab)), "port",
			 (int)ep->port, "protocol", xlvs_svc_proto_name(ep->proto));
}

json_t *xlvs_real_json(const struct xlvs_endpoint *ep)
{
	char ab[INET6_ADDRSTRLEN];
	json_t *r = json_pack("{s:s}", "address", xlvs_addr_text(&ep->addr, ab, sizeof(ab)));

	if (r && ep->have_port)
		json_object_set_new(r, "port", json_integer(ep->port));
	return r;
}

void xlvs_printer(struct xlvs_ctx *c, struct xp *p)
{
	xp_init(p, c->out, c->json, c->pretty);
	xp_begin(p);
}

int xlvs_finish(struct xlvs_ctx *c, struct xp *p)
{
	if (xp_end(p) < 0)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot write the output");
	return XLVS_EXIT_OK;
}

int xlvs_request_change(struct xlvs_ctx *c, json_t *req, const struct xlvs_endpoint *svc)
{
	struct xlvs_endpoint sent = *svc;
	int rc;

	if (!sent.proto)
		sent.proto = IPPROTO_TCP; /* as xlvs_svc_json() sends it */
	xlvs_svc_text(&sent, c->about, sizeof(c->about));
	xlvs_addr_text(&sent.addr, c->about_vip, sizeof(c->about_vip));
	rc = xlvs_request_applied(c, req);
	c->about[0] = '\0';
	if (!rc)
		fputs(XLVS_RUNTIME_NOTE, c->err);
	return rc;
}

int xlvs_request_applied(struct xlvs_ctx *c, json_t *req)
{
	json_t *reply;
	struct xp p;
	int rc;

	rc = xlvs_ctl_request(c, req, &reply);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xlvs_fmt_applied(&p, "applied", "applied: ", json_object_get(reply, "applied"));
	json_decref(reply);
	return xlvs_finish(c, &p);
}
