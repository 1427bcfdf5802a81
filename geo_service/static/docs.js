// API documentation pages (geo_service/api/docs.py): starts Swagger UI on /docs (element #swagger-ui) or ReDoc on
// /redoc (element #redoc). An external script, as these pages allow no inline script (Content-Security-Policy);
// the OpenAPI document's URL comes from the element's data-openapi-url attribute. Texts shown are French.
(function () {
  "use strict";
  const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const SCHEME = "jeton";

  // Writes take "Authorization: Bearer <token>", which the schema lists as a header parameter; OpenAPI says to
  // ignore such a parameter and Swagger UI does (it never sends it). So the operations that list it get a bearer
  // security scheme instead: "Authorize" takes the token once, and "Try it out" sends it. Nothing changes when
  // the schema already declares its scheme. The token stays in memory (persistAuthorization is off).
  function withBearerScheme(spec) {
    if (!spec || typeof spec !== "object" || !spec.paths) {
      return spec;
    }
    let changed = false;
    const paths = {};
    for (const [path, item] of Object.entries(spec.paths)) {
      const copy = Object.assign({}, item);
      for (const method of METHODS) {
        const operation = item && item[method];
        if (!operation || !Array.isArray(operation.parameters)) {
          continue;
        }
        const kept = operation.parameters.filter(
          (p) => !(p && p.in === "header" && String(p.name).toLowerCase() === "authorization"),
        );
        if (kept.length === operation.parameters.length) {
          continue;
        }
        changed = true;
        copy[method] = Object.assign({}, operation, {
          parameters: kept,
          security: operation.security || [{ [SCHEME]: [] }],
        });
      }
      paths[path] = copy;
    }
    if (!changed) {
      return spec;
    }
    const components = Object.assign({}, spec.components);
    components.securitySchemes = Object.assign({}, components.securitySchemes, {
      [SCHEME]: {
        type: "http",
        scheme: "bearer",
        description: "Jeton d'écriture (modifier les projets) : saisissez le jeton seul, sans « Bearer ».",
      },
    });
    return Object.assign({}, spec, { paths: paths, components: components });
  }

  function bearerSchemePlugin() {
    return {
      statePlugins: {
        spec: {
          wrapActions: {
            updateJsonSpec: (original) => (spec) => original(withBearerScheme(spec)),
          },
        },
      },
    };
  }

  const swagger = document.getElementById("swagger-ui");
  if (swagger) {
    window.ui = window.SwaggerUIBundle({
      url: swagger.dataset.openapiUrl,
      domNode: swagger,
      presets: [window.SwaggerUIBundle.presets.apis],
      plugins: [bearerSchemePlugin],
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      persistAuthorization: false,
      // no badge fetched from the public validator: nothing may leave this server
      validatorUrl: null,
    });
  }

  // ReDoc 2 always shows its maker's logo, from a third-party host, at the foot of its menu (no option turns it
  // off). An image from another host gets an empty source instead, whether set as property or attribute: nothing
  // is requested (the page's CSP would refuse it, with a console error), the image fails at once and ReDoc
  // removes it.
  function onThisServer(value) {
    let url;
    try {
      url = new URL(String(value), document.baseURI);
    } catch (error) {
      return value;
    }
    const web = url.protocol === "http:" || url.protocol === "https:";
    return web && url.origin !== window.location.origin ? "" : value;
  }

  function keepImagesOnThisServer() {
    const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
    Object.defineProperty(
      HTMLImageElement.prototype,
      "src",
      Object.assign({}, src, {
        set(value) {
          src.set.call(this, onThisServer(value));
        },
      }),
    );
    const setAttribute = Element.prototype.setAttribute;
    Element.prototype.setAttribute = function (name, value) {
      const image = this instanceof HTMLImageElement && String(name).toLowerCase() === "src";
      return setAttribute.call(this, name, image ? onThisServer(value) : value);
    };
  }

  const redoc = document.getElementById("redoc");
  if (redoc) {
    keepImagesOnThisServer();
    window.Redoc.init(redoc.dataset.openapiUrl, { expandResponses: "200,201" }, redoc);
  }
})();
