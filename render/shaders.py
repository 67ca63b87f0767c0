"""GLSL for the three passes: shadow atlas, scene (colour + id + depth), resolve.

Every frame of a batch is drawn by one instanced call per mesh: instance i is the
batch's frame i, drawn into tile i of a strip of tiles stacked bottom-up. Clip distances
keep each triangle inside its tile, so one framebuffer holds the whole batch and one
read brings it back.
"""

SCENE_VS = """
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_colour;  // linear vertex colour (mesh assets); (1, 1, 1) when the mesh has none
layout(location = 3) in vec2 a_uv;      // texture coordinates (a mesh asset with its own image)

layout(std140) uniform FrameTable {  // this batch's rows of frame_table, tile after tile:
    vec4 u_rows[FRAME_ROWS];         // VP rows 0-3, eye 4, slot k's model rows 5+3k..7+3k
};
uniform int u_stride;        // rows per frame
uniform int u_tiles;         // frames per batch: the strip's height in tiles
uniform int u_slot;          // which model matrix
#ifdef FLOOR
uniform vec4 u_floor_x;      // grid lines of the floor mesh (vertex i, j sits at u_floor_x[i], u_floor_y[j])
uniform vec4 u_floor_y;
#endif
#ifdef SHADOW_PASS
uniform mat4 u_light;        // world -> light clip (orthographic)
#else
out vec3 v_world;
out vec3 v_normal;
out vec3 v_colour;
out vec2 v_uv;
flat out vec3 v_eye;
flat out int v_tile;
#if defined(GEOMETRY) || defined(WORLD)
out vec3 v_local;
#endif
#endif

vec4 row(int x, int tile) { return u_rows[tile * u_stride + x]; }  // plain loads: texelFetch costs more on llvmpipe

void main() {
    int tile = gl_InstanceID;
    int m = 5 + 3 * u_slot;
    mat4 model = transpose(mat4(row(m, tile), row(m + 1, tile), row(m + 2, tile), vec4(0.0, 0.0, 0.0, 1.0)));
#ifdef FLOOR
    vec3 position = vec3(u_floor_x[int(a_position.x)], u_floor_y[int(a_position.y)], 0.0);
#else
    vec3 position = a_position;
#endif
#ifdef SKY
    vec4 world = vec4(row(4, tile).xyz + 1000.0 * position, 1.0);  // a dome around the eye
#else
    vec4 world = model * vec4(position, 1.0);
#endif
#ifdef SHADOW_PASS
    vec4 clip = u_light * world;
#else
    vec4 clip = transpose(mat4(row(0, tile), row(1, tile), row(2, tile), row(3, tile))) * world;
    v_world = world.xyz;
    v_normal = mat3(model) * a_normal;
    v_colour = a_colour;
    v_uv = a_uv;
    v_eye = row(4, tile).xyz;
    v_tile = tile;
#if defined(GEOMETRY) || defined(WORLD)
    v_local = position;
#endif
#endif
    gl_ClipDistance[0] = clip.w + clip.y;  // stay inside the tile...
    gl_ClipDistance[1] = clip.w - clip.y;
    clip.y = (clip.y + clip.w * float(2 * tile + 1)) / float(u_tiles) - clip.w;  // ...then move it into place
    gl_Position = clip;
}
"""

SHADOW_FS = """
void main() {}
"""

SCENE_FS = """
in vec3 v_world;
in vec3 v_normal;
in vec3 v_colour;
in vec2 v_uv;
flat in vec3 v_eye;
flat in int v_tile;
layout(location = 0) out vec4 o_color;  // sRGB colour, alpha = instance id / 255
#if defined(GEOMETRY) || defined(WORLD)
in vec3 v_local;
#endif
#ifdef GEOMETRY
layout(location = 1) out vec4 o_normal;  // world frame
layout(location = 2) out vec4 o_coords;  // body frame, scaled to the box; 0 off the objects
uniform vec3 u_box_lo;
uniform vec3 u_box_size;
#endif

uniform vec3 u_albedo;      // linear
uniform sampler2D u_image;  // a mesh asset's own image (sRGB: linear on read), where u_imaged is 1
uniform int u_imaged;
uniform float u_roughness;
uniform float u_metallic;
uniform float u_id;
uniform vec3 u_sun_dir;     // towards the light
uniform float u_sun;        // its intensity (pyrender units: radiance of a directional light)
uniform float u_ambient;
uniform vec3 u_sky;         // background colour, linear
uniform vec3 u_ground;      // floor's mean colour, linear
#ifdef FLOOR
uniform vec3 u_check_a;     // linear
uniform vec3 u_check_b;
uniform float u_check_m;    // square size, metres
uniform vec2 u_fog;         // distances where the floor starts / ends fading into the background
uniform vec2 u_floor_light; // diffuse sun (n.l / pi) and ambient irradiance on the floor
#endif
#ifdef SHADOWS
uniform sampler2DRectShadow u_shadow_map;  // one tile per frame, stacked like the frames
uniform float u_shadow_tile;               // tile size, texels
uniform mat4 u_light;
uniform float u_normal_offset; // metres: push the lookup off the surface to avoid acne
#endif

const float PI = 3.14159265;

#ifdef WORLD
// Worlds (scenes.worlds): a procedural sky, its light as spherical harmonics, floor kinds
// and surface patterns. Patterns fade to their mean where they get finer than a pixel.
uniform vec3 u_zenith;       // linear
uniform vec3 u_horizon;
uniform vec3 u_sun_tint;
uniform float u_sky_gain;    // sky radiance -> its light on the scene (render.environment)
uniform vec3 u_sh[9];        // irradiance / pi of that light, L2 spherical harmonics (already convolved)
uniform int u_floor_kind;    // index in worlds.FLOORS
uniform int u_texture;       // 1 + index in worlds.TEXTURES; 0 = plain
uniform vec3 u_tex_seed;     // shifts the pattern per object

vec3 sky(vec3 d) {  // radiance seen looking along d (unit)
    float g = max(dot(d, u_sun_dir), 0.0);
    return mix(u_horizon, u_zenith, sqrt(max(d.z, 0.0))) + u_sun_tint * (0.25 * pow(g, 16.0));
}

vec3 sh(vec3 n) {
    return max(u_sh[0] + u_sh[1] * n.y + u_sh[2] * n.z + u_sh[3] * n.x + u_sh[4] * (n.x * n.y) + u_sh[5] * (n.y * n.z)
               + u_sh[6] * (3.0 * n.z * n.z - 1.0) + u_sh[7] * (n.x * n.z) + u_sh[8] * (n.x * n.x - n.y * n.y), 0.0);
}

float hash(vec2 p) { p = fract(p * vec2(123.34, 456.21)); p += dot(p, p + 45.32); return fract(p.x * p.y); }
float hash3(vec3 p) { p = fract(p * vec3(443.897, 441.423, 437.195)); p += dot(p, p.yzx + 19.19); return fract((p.x + p.y) * p.z); }

float noise(vec2 p) {
    vec2 i = floor(p), f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), f.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0)), f.x), f.y);
}

float noise3(vec3 p) {
    vec3 i = floor(p), f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    vec2 e = vec2(1.0, 0.0);
    float a = mix(mix(hash3(i), hash3(i + e.xyy), f.x), mix(hash3(i + e.yxy), hash3(i + e.xxy), f.x), f.y);
    float b = mix(mix(hash3(i + e.yyx), hash3(i + e.xyx), f.x), mix(hash3(i + e.yxx), hash3(i + e.xxx), f.x), f.y);
    return mix(a, b, f.z);
}

float fbm(vec2 p) { return (0.5 * noise(p) + 0.25 * noise(2.03 * p + 17.0) + 0.125 * noise(4.01 * p + 31.0)) / 0.875; }
float fbm3(vec3 p) { return (0.5 * noise3(p) + 0.25 * noise3(2.03 * p + 17.0) + 0.125 * noise3(4.01 * p + 31.0)) / 0.875; }

float detail(float feature, float pixel) {  // 1 where a feature spans pixels, 0 where it is finer than one
    return 1.0 - smoothstep(0.3, 1.0, pixel / feature);
}

float line(float d, float half_width, float px) {  // 1 on a line at distance d (metres), 0 off it, antialiased;
    float h = max(half_width, 0.5 * px);            // never thinner than a pixel, so a small frame still shows it
    return 1.0 - smoothstep(h - 0.5 * px, h + 0.5 * px, d);
}

vec3 floor_albedo(vec2 p, vec3 a, vec3 b, float s, float px) {
    if (u_floor_kind == 1) {  // planks: boards s wide, 6 s long, staggered; grain along them; dark seams
        float row = floor(p.y / s);
        float x = p.x / (6.0 * s) + hash(vec2(row, 7.0));
        float board = floor(x);
        vec3 c = mix(a, b, 0.6 * hash(vec2(board, row)));
        float grain = noise(vec2(p.x * 2.0 / s, p.y * 30.0 / s + 5.0 * noise(p * 3.0 / s)));
        c *= mix(1.0, 0.8 + 0.4 * grain, detail(s / 30.0, px));
        float fy = fract(p.y / s), fx = fract(x);
        float seam = max(line(s * min(fy, 1.0 - fy), 0.025 * s, px), line(6.0 * s * min(fx, 1.0 - fx), 0.025 * s, px));
        return c * mix(0.95, 1.0 - 0.55 * seam, detail(0.4 * s, px));  // seams until boards are ~3 px wide
    }
    if (u_floor_kind == 2) {  // tiles: s squares, a little tone each, grout in the second colour
        vec2 q = p / s, f = fract(q);
        float edge = s * min(min(f.x, 1.0 - f.x), min(f.y, 1.0 - f.y));
        vec3 tile = a * (0.82 + 0.3 * hash(floor(q)));
        return mix(mix(b, a, 0.8), mix(tile, b, line(edge, 0.045 * s, px)), detail(0.4 * s, px));  // until ~3 px tiles
    }
    if (u_floor_kind == 3) {  // concrete: blotches and fine grit
        vec3 c = mix(b, a, fbm(p / s));
        return c * (1.0 + 0.25 * (hash(floor(p * 150.0)) - 0.5) * detail(1.0 / 150.0, px));
    }
    if (u_floor_kind == 4) {  // grass: patches of the two greens, blades
        vec3 c = mix(b, a, smoothstep(0.3, 0.7, fbm(p / s)));
        float blades = noise(vec2(p.x * 90.0, p.y * 90.0) + 3.0 * noise(p * 20.0));
        return c * mix(1.0, 0.65 + 0.7 * blades, detail(1.0 / 90.0, px));
    }
    return vec3(-1.0);  // checker: drawn as ever
}

void pattern(inout vec3 albedo, inout float roughness, float px) {  // px: body-frame metres per pixel
    vec3 q = v_local + u_tex_seed;
    if (u_texture == 1) {  // wood grain: rings about the body's z, wobbling
        float r = length(q.xy) * 45.0 + 4.0 * fbm3(q * 3.0);
        albedo *= mix(1.0, 0.72 + 0.38 * smoothstep(0.2, 0.8, 0.5 + 0.5 * sin(r)), detail(0.07, px));
    } else if (u_texture == 2) {  // brushed metal: fine streaks along the body's x
        float s = noise3(vec3(q.x * 6.0, q.y * 350.0, q.z * 350.0));
        albedo *= mix(1.0, 0.85 + 0.3 * s, detail(0.01, px));
        roughness = clamp(roughness * (0.7 + 0.6 * s), 0.05, 1.0);
    } else if (u_texture == 3) {  // marble: dark veins through a pale ground
        float vein = pow(1.0 - abs(sin(q.x * 9.0 + 7.0 * fbm3(q * 2.5))), 8.0);
        albedo *= mix(1.0, mix(1.15, 0.4, vein), detail(0.03, px));
        roughness = 0.2;
    } else if (u_texture == 4) {  // rubber: faint mottling, very matte
        albedo *= mix(1.0, 0.88 + 0.2 * noise3(q * 120.0), detail(1.0 / 120.0, px));
        roughness = 0.95;
    } else if (u_texture == 5) {  // fabric: a weave of two thread directions
        float warp = 0.5 + 0.5 * sin((q.x + q.z) * 420.0), weft = 0.5 + 0.5 * sin((q.y - q.z) * 420.0);
        float cloth = mix(warp, weft, step(0.5, fract((q.x + q.y) * 67.0)));
        albedo *= mix(1.0, 0.75 + 0.35 * cloth, detail(0.015, px));
        roughness = 1.0;
    } else if (u_texture == 6) {  // speckled plastic: sparse light and dark flecks
        float h = hash3(floor(q * 90.0));
        vec3 fleck = h > 0.96 ? vec3(0.85) : albedo * 0.25;
        albedo = mix(albedo, fleck, step(0.92, h) * detail(1.0 / 90.0, px));
    }
}
#endif

float visibility(vec3 world, vec3 n) {
    float lit = 1.0;
#ifdef SHADOWS
    vec3 p = (u_light * vec4(world + n * u_normal_offset, 1.0)).xyz;
    p.xy = p.xy * 0.5 + 0.5;  // z is already 0..1 (clip control)
    // Outside the casters' box nothing can shade it.
    if (all(greaterThan(p.xy, vec2(0.0))) && all(lessThan(p.xy, vec2(1.0))))
    {   // bilinear PCF, its 2x2 texels kept inside this frame's tile
        vec2 texel = clamp(p.xy * u_shadow_tile, 0.5, u_shadow_tile - 0.5) + vec2(0.0, float(v_tile) * u_shadow_tile);
        lit = texture(u_shadow_map, vec3(texel, min(p.z, 1.0)));
    }
#endif
    return lit;
}

vec3 shade(vec3 albedo, float roughness, float metallic, vec3 n, vec3 v) {
    float a = roughness * roughness;
    vec3 f0 = mix(vec3(0.04), albedo, metallic);
    vec3 diffuse = albedo * (1.0 - metallic);
    vec3 l = u_sun_dir;
    vec3 h = normalize(l + v);
    float nl = max(dot(n, l), 0.0);
    float nv = max(dot(n, v), 1e-4);
    float nh = max(dot(n, h), 0.0);
    float vh = max(dot(v, h), 0.0);
    vec3 F = f0 + (1.0 - f0) * pow(1.0 - vh, 5.0);
    float a2 = a * a;
    float dd = nh * nh * (a2 - 1.0) + 1.0;
    float D = a2 / (PI * dd * dd);
    float V = 0.5 / max(nl * sqrt(nv * nv * (1.0 - a2) + a2) + nv * sqrt(nl * nl * (1.0 - a2) + a2), 1e-5);
    vec3 direct = ((1.0 - F) * diffuse / PI + F * (D * V)) * (u_sun * nl);
    if (nl > 0.0) direct *= visibility(v_world, n);
#ifdef WORLD
    // the sky's light: diffuse from its harmonics; metals mirror the sky (the floor below the
    // horizon), blurred towards the harmonics as they get rougher
    vec3 ground = u_ground * (u_sun_tint * (u_sun * max(u_sun_dir.z, 0.0) / PI) + sh(vec3(0.0, 0.0, 1.0)));
    vec3 r = reflect(-v, n);
    vec3 env = mix(r.z > 0.0 ? sky(r) * u_sky_gain : ground, sh(r), roughness);
    vec3 Fa = f0 + (max(vec3(1.0 - roughness), f0) - f0) * pow(1.0 - nv, 5.0);
    return direct * u_sun_tint + sh(n) * diffuse * (1.0 - Fa) + Fa * env;
#else
    // Ambient: grey from above, a little darker from below; metals mirror a blurred
    // world of sky above the horizon and lit floor below it.
    vec3 ground = u_ground * (u_sun * max(u_sun_dir.z, 0.0) / PI + u_ambient);
    vec3 r = reflect(-v, n);
    vec3 env = mix(ground, u_sky, smoothstep(-0.1 - roughness, 0.1 + roughness, r.z));
    vec3 Fa = f0 + (max(vec3(1.0 - roughness), f0) - f0) * pow(1.0 - nv, 5.0);
    vec3 ambient = u_ambient * (0.8 + 0.2 * n.z) * diffuse * (1.0 - Fa) + Fa * env * (0.4 + 0.6 * u_ambient);
    return direct + ambient;
#endif
}

vec3 own_colour() {  // a mesh asset's colour here: its vertex colour, times its image where it has one
    return u_imaged == 1 ? v_colour * texture(u_image, v_uv).rgb : v_colour;
}

vec3 tonemap(vec3 c) {  // a soft shoulder
    return clamp(1.15 * c / (1.0 + 0.15 * c), 0.0, 1.0);
}

void main() {
#if defined(SKY)
    vec3 c = min(sky(normalize(v_world - v_eye)), 1.0);
    gl_FragDepth = 0.0;  // stays "nothing hit" (reversed z): depth and ids see background
#elif defined(FLOOR)
    vec2 p = v_world.xy / u_check_m;
    vec2 w = fwidth(p) + 1e-4;  // box-filtered checker: fades to the mean instead of aliasing
    vec2 i = 2.0 * (abs(fract((p - 0.5 * w) * 0.5) - 0.5) - abs(fract((p + 0.5 * w) * 0.5) - 0.5)) / w;
    vec3 albedo = mix(u_check_a, u_check_b, 0.5 - 0.5 * i.x * i.y);
#ifdef WORLD
    vec3 kind = floor_albedo(v_world.xy, u_check_a, u_check_b, u_check_m, length(fwidth(v_world.xy)));
    albedo = kind.x < 0.0 ? albedo : kind;
    vec3 c = tonemap(albedo * (u_floor_light.x * u_sun_tint * visibility(v_world, vec3(0.0, 0.0, 1.0)) + sh(vec3(0.0, 0.0, 1.0))));
    c = mix(c, min(sky(normalize(v_world - v_eye)), 1.0), smoothstep(u_fog.x, u_fog.y, length(v_world - v_eye)));
#else
    // Rough, flat and dielectric (vocabulary.FLOOR_MATERIAL): its specular is ~2% of its
    // diffuse, so the floor is lit diffusely: sun (through the shadow map) plus ambient.
    vec3 c = tonemap(albedo * (u_floor_light.x * visibility(v_world, vec3(0.0, 0.0, 1.0)) + u_floor_light.y));
    c = mix(c, u_sky, smoothstep(u_fog.x, u_fog.y, length(v_world - v_eye)));
#endif
#else
#ifdef WORLD
    vec3 albedo = u_albedo * own_colour();
    float roughness = u_roughness;
    pattern(albedo, roughness, length(fwidth(v_local)));
    vec3 c = tonemap(shade(albedo, roughness, u_metallic, normalize(v_normal), normalize(v_eye - v_world)));
#else
    vec3 c = tonemap(shade(u_albedo * own_colour(), u_roughness, u_metallic, normalize(v_normal), normalize(v_eye - v_world)));
#endif
#endif
    o_color = vec4(mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c)), u_id);  // sRGB
#ifdef GEOMETRY
#if defined(SKY)
    o_normal = vec4(0.0);
    o_coords = vec4(0.0);
#elif defined(FLOOR)
    o_normal = vec4(0.0, 0.0, 1.0, 0.0);
    o_coords = vec4(0.0);
#else
    o_normal = vec4(normalize(v_normal), 0.0);
    o_coords = u_id > 0.0 ? vec4(clamp((v_local - u_box_lo) / u_box_size, 0.0, 1.0), 0.0) : vec4(0.0);
#endif
#endif
}
"""

RESOLVE_VS = """
void main() {  // one triangle covering the viewport
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""

RESOLVE_FS = """
// Each output pixel gathers SCALE x SCALE pixels x SAMPLES samples: colour is their
// mean; id is the one covering most samples (ties: the nearest), depth and flow are
// that surface's, normals and coords (GEOMETRY) its samples' mean. Defines: SAMPLES, SCALE,
// FLOW, BACKWARD (each with its output location), GEOMETRY (locations LOC_NORMAL, LOC_COORDS).
#define N (SCALE * SCALE * SAMPLES)
#if SAMPLES > 1
#define SAMPLER sampler2DMS
#define FETCH(t, p, s) texelFetch(t, p, s)
#else
#define SAMPLER sampler2D
#define FETCH(t, p, s) texelFetch(t, p, 0)
#endif
uniform SAMPLER u_color;
uniform SAMPLER u_depth;
#ifdef GEOMETRY
uniform SAMPLER u_normal;
uniform SAMPLER u_coords;
layout(location = LOC_NORMAL) out vec4 o_normal;
layout(location = LOC_COORDS) out vec4 o_coords;
#endif
uniform float u_near;
layout(location = 0) out vec4 o_color;
layout(location = 1) out float o_depth;
layout(location = 2) out float o_id;    // R8: id / 255
#if defined(FLOW) || defined(BACKWARD)
uniform sampler2D u_flow;   // flow_matrices: rows x, y, w of surface k at 3k..3k+2; row t forward, u_back + t backward
uniform int u_first;
uniform int u_last;         // the clip's last frame: nothing follows it, its flow is 0 (and nothing precedes frame 0)
uniform int u_height;       // output tile height
uniform vec4 u_intrinsics;  // fx, fy, cx, cy (output pixels)

vec2 flow(int row, vec2 uv, vec4 cam, float id) {  // where the surface seen at uv is seen in the frame of `row`'s warp
    int k = 3 * int(round(id * 255.0));
    vec4 q = vec4(dot(texelFetch(u_flow, ivec2(k, row), 0), cam), dot(texelFetch(u_flow, ivec2(k + 1, row), 0), cam),
                  0.0, dot(texelFetch(u_flow, ivec2(k + 2, row), 0), cam));
    return q.xy / max(q.w, 1e-6) - uv;
}
#endif
#ifdef FLOW
layout(location = LOC_FLOW) out vec2 o_flow;
#endif
#ifdef BACKWARD
layout(location = LOC_BACKWARD) out vec2 o_backward;
uniform int u_back;         // the first backward row: T after the forward rows, or 0 without forward flow
#endif

void main() {
    ivec2 out_px = ivec2(gl_FragCoord.xy);
    vec3 colour = vec3(0.0);
    float ids[N];
    float depths[N];
    for (int j = 0; j < SCALE; ++j)
    for (int i = 0; i < SCALE; ++i)
    for (int s = 0; s < SAMPLES; ++s) {
        ivec2 p = out_px * SCALE + ivec2(i, j);
        vec4 c = FETCH(u_color, p, s);
        int k = (j * SCALE + i) * SAMPLES + s;
        colour += c.rgb;
        ids[k] = c.a;
        depths[k] = FETCH(u_depth, p, s).r;
    }
    // no array indexing by per-pixel values below: llvmpipe would scalarise it
    float id = ids[0];
    float nearest = depths[0];
    int most = 0;
    for (int k = 0; k < N; ++k) {
        int count = 0;
        for (int m = 0; m < N; ++m) count += int(ids[m] == ids[k]);
        bool better = count > most || (count == most && depths[k] > nearest);  // reversed z: larger is nearer
        id = better ? ids[k] : id;
        nearest = better ? depths[k] : nearest;
        most = better ? count : most;
    }
    // Window depth (NEAR / z) is affine across a triangle and the sample pattern is centred,
    // so the mean over the surface's samples is its depth at the pixel centre (when it covers it).
    float d = 0.0;
    for (int k = 0; k < N; ++k) d += ids[k] == id ? depths[k] : 0.0;
    d /= float(most);
    float z = d > 0.0 ? u_near / d : uintBitsToFloat(0x7F800000u);  // reversed z; 0 = nothing hit
    o_color = vec4(colour / float(N), 1.0);
    o_id = id;
    o_depth = z;
#if defined(FLOW) || defined(BACKWARD)
    int frame = u_first + out_px.y / u_height;
    vec2 uv = vec2(gl_FragCoord.x, gl_FragCoord.y - float((out_px.y / u_height) * u_height));
    vec4 cam = vec4((uv.x - u_intrinsics.z) / u_intrinsics.x * z, -(uv.y - u_intrinsics.w) / u_intrinsics.y * z, -z, 1.0);
#endif
#ifdef FLOW
    o_flow = d > 0.0 && frame < u_last ? flow(frame, uv, cam, id) : vec2(0.0);
#endif
#ifdef BACKWARD
    o_backward = d > 0.0 && frame > 0 ? flow(u_back + frame, uv, cam, id) : vec2(0.0);
#endif
#ifdef GEOMETRY
    // the winning surface's samples (background samples hold zeros and are left out by depth)
    vec3 normal = vec3(0.0);
    vec4 coords = vec4(0.0);
    for (int j = 0; j < SCALE; ++j)
    for (int i = 0; i < SCALE; ++i)
    for (int s = 0; s < SAMPLES; ++s) {
        ivec2 p = out_px * SCALE + ivec2(i, j);
        int k = (j * SCALE + i) * SAMPLES + s;
        bool mine = ids[k] == id && depths[k] > 0.0;
        normal += mine ? FETCH(u_normal, p, s).xyz : vec3(0.0);
        coords += mine ? vec4(FETCH(u_coords, p, s).xyz, 1.0) : vec4(0.0);
    }
    o_normal = vec4(d > 0.0 ? normalize(normal + vec3(0.0, 0.0, 1e-9)) : vec3(0.0), 0.0);
    o_coords = vec4(coords.xyz / max(coords.w, 1.0), 0.0);
#endif
}
"""
