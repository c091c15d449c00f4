// Floor for the gateway: forwards every request to the same no-op origin over the same kind of service
// binding the authorizer uses, and checks nothing.
export default {
  fetch(request, env) {
    return env.ORIGIN.fetch(request);
  },
};
