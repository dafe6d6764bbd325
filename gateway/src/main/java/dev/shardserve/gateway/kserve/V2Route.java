package dev.shardserve.gateway.kserve;

import dev.shardserve.gateway.openapi.ApiRoute;

/** The Open Inference Protocol REST routes on the inference port: the method each takes and its path template. */
enum V2Route {
  SERVER_METADATA(ApiRoute.get("/v2")),
  SERVER_LIVE(ApiRoute.get("/v2/health/live")),
  SERVER_READY(ApiRoute.get("/v2/health/ready")),
  MODEL_METADATA(ApiRoute.get("/v2/models/{model_name}")),
  VERSION_METADATA(ApiRoute.get("/v2/models/{model_name}/versions/{model_version}")),
  MODEL_READY(ApiRoute.get("/v2/models/{model_name}/ready")),
  VERSION_READY(ApiRoute.get("/v2/models/{model_name}/versions/{model_version}/ready")),
  MODEL_INFER(ApiRoute.post("/v2/models/{model_name}/infer")),
  VERSION_INFER(ApiRoute.post("/v2/models/{model_name}/versions/{model_version}/infer"));

  private final ApiRoute route;

  V2Route(ApiRoute route) {
    this.route = route;
  }

  ApiRoute route() {
    return route;
  }
}
