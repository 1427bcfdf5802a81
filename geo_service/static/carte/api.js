// Requests to the service's API, and its failures said in French: its own French message (detail_fr) when it
// gives one, else a sentence for the status.

export async function problem(response, unknown422) {
  if (!response) return "Pas de réponse du serveur : vérifiez la connexion, puis réessayez.";
  if (response.status === 429) return "Le serveur est occupé, réessayez dans un instant.";
  let detail = "";
  try {
    const body = await response.json();
    if (body.detail_fr) {
      const said = String(body.detail_fr).trim();
      return said.charAt(0).toUpperCase() + said.slice(1) + (/[.!?]$/.test(said) ? "" : ".");
    }
    detail = Array.isArray(body.detail)
      ? body.detail.map((d) => ((d.loc || []).slice(1).join(".") + " : " + d.msg).trim()).join(" ; ")
      : String(body.detail || "");
  } catch (error) {
    detail = "";
  }
  const quoted = detail ? " (réponse du serveur : « " + detail + " »)" : "";
  if (response.status === 422) return (unknown422 || "Territoire introuvable ou mal écrit") + quoted + ".";
  if (response.status === 413) return "Demande trop grande : retirez des actions" + quoted + ".";
  if (response.status === 404) return "Introuvable" + quoted + ".";
  if (response.status < 500) return "Demande refusée par le serveur" + quoted + ".";
  return "Le serveur n'a pas pu répondre (erreur " + response.status + "). Réessayez plus tard.";
}

// {ok: true, response} or {ok: false, message}: a network failure is an answer too, never an exception
export async function call(url, options, unknown422) {
  let response = null;
  try {
    response = await fetch(url, options);
  } catch (error) {
    response = null;
  }
  return response && response.ok ? {ok: true, response} : {ok: false, message: await problem(response, unknown422)};
}
